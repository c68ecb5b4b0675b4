"""Vessels at sea on the map: containers synced from the sandbox's DCSA events sit between their
ports, and a vessel whose arrival estimate slipped (port congestion) says so in its tooltip, in the
viewer's language."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import requests

import queries
from connectors import build
from connectors.base import sync
from connectors.testing import write_config
from sandbox import catalog as cat
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database
from tower.ui import map_layers

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _vessels(db, now) -> pd.DataFrame:
    with db.cursor() as cur:
        return cur.execute(queries.load("pages/map_vessels"), {"now": now}).df()


def test_vessels_at_sea_sit_between_their_ports_and_show_their_slip(tmp_path):
    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1), clock)
    cfg = write_config(tmp_path, server.url, sources={"dcsa": {"kind": "dcsa", "base_url": "{sandbox}/dcsa/v2"}})
    db = Database(cfg.db_path)
    try:
        dcsa = build(cfg.sources["dcsa"], cfg)
        sync(dcsa, db, clock)
        requests.post(server.url + "/_sandbox/scenarios", timeout=5, json={"scenarios": [
            {"name": "port_congestion", "starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(hours=72)).isoformat()}]})
        clock.advance(hours=110)                 # delayed vessels sail once the port clears, late
        sync(dcsa, db, clock)
        vessels = _vessels(db, clock.now())
        assert len(vessels) >= 10 and vessels.equipment_reference.is_unique
        at_sea = {v.container for v in server.world.voyages(clock.now())
                  if any(m.what == "departed" for m in v.milestones) and not any(m.what == "arrived" for m in v.milestones)}
        assert set(vessels.equipment_reference) == at_sea
        for r in vessels.itertuples():           # between the two ports' latitudes
            a, b = cat.NODE_BY_ID[r.pol].place.lat, cat.NODE_BY_ID[r.pod].place.lat
            assert min(a, b) - 0.01 <= r.lat <= max(a, b) + 0.01
        slipped = vessels[vessels.slip_hours > map_layers.VESSEL_SLIP_H]
        assert len(slipped) >= 1

        deck, _ = map_layers.build_deck(nodes=pd.DataFrame(), suppliers=pd.DataFrame(), warehouses=pd.DataFrame(),
                                        stock=pd.DataFrame(), shipments=pd.DataFrame(), vessels=vessels)
        layer = next(layer for layer in deck.layers if layer.id == map_layers.VESSELS)
        rows = {row["equipment_reference"]: row for row in layer.data}
        box = slipped.equipment_reference.iloc[0]
        assert rows[box]["status"] == "slipped" and "slipped" in rows[box]["detail"]
        assert "first announced" in rows[box]["detail"]
        zh = map_layers.vessel_layer(vessels, 1.0, "zh").data
        assert "延误" in next(r["detail"] for r in zh if r["equipment_reference"] == box)
        steady = vessels[vessels.slip_hours <= map_layers.VESSEL_SLIP_H].equipment_reference
        assert all(rows[b]["status"] == "steady" for b in steady)
    finally:
        db.close()
        server.stop()


def test_no_dcsa_source_means_no_vessel_layer_data(tmp_path):
    db = Database(tmp_path / "empty.duckdb")
    try:
        vessels = _vessels(db, T0)
        assert vessels.empty
        assert map_layers.vessel_layer(vessels, 1.0).data == []
    finally:
        db.close()
