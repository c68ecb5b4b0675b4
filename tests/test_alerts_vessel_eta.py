"""Rule vessel_eta_past_stockout: literal rows through the real schema (fires when the latest vessel
ETA + handling passes the warehouse's projected stockout, reads as of $now, clears when the ETA comes
back, the stock recovers, the vessel arrives or another shipment restocks first), and end to end:
a port-congestion scenario in the sandbox delays vessels past stockout, the alert engine opens the
alert from the synced DCSA events and resolves it when the scenario ends."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from test_alerts_helpers import T0, hours, make_settings, put, stock

from connectors import build
from connectors.base import sync
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from tower.alerts import rules
from tower.alerts.engine import AlertEngine
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database
from tower.ui import alert_text

RULE = "vessel_eta_past_stockout"
SETTINGS = make_settings(engine={"hold_count": 1, "clear_count": 1, "min_interval_s": 0}, only=[RULE])
MARGIN_H = SETTINGS.rules[RULE].params["margin_hours"]


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "vessel.duckdb")
    yield d
    d.close()


def run(db, now=T0):
    with db.cursor() as cur:
        found = rules.run(cur, RULE, {"now": now, **SETTINGS.rules[RULE].params})
    return {f.entity_id: f for f in found}


def selling(db, sku, wh, per_day, available, at=T0 - hours(1)):
    """`available` units in stock at `at`, selling `per_day` (one week's sales in one order a day ago)."""
    put(db, "orders", dict(order_id=f"o-{sku}-{wh}", warehouse_id=wh, created_at=at - hours(24)))
    put(db, "order_lines", dict(order_id=f"o-{sku}-{wh}", line_id="1", sku=sku, quantity=per_day * 7))
    stock(db, sku, wh, at, available)


def po(db, po_id, sku, wh):
    put(db, "purchase_orders", dict(po_id=po_id, sku=sku, warehouse_id=wh, quantity_ordered=500,
                                    ordered_at=T0 - hours(24 * 20), status="shipped"))


def announce(db, box, announced_at, eta, classifier="EST", po_id="PO-1", port="USLAX"):
    put(db, "vessel_eta_history", dict(
        event_id=f"{box}-{announced_at.isoformat()}-{classifier}", equipment_reference=box, po_reference=po_id,
        un_location_code=port, vessel_name="MAERSK ESSEN", classifier=classifier, announced_at=announced_at,
        eta=eta))


@pytest.fixture
def slipped(db):
    """Stock runs out at T0 + 10 days (100 units, 10 a day); the vessel was planned at T0 + 5 days,
    then re-announced at T0 + 8.5 days: arrival + 72 h handling = 11.5 days, 36 h short."""
    po(db, "PO-1", "A", "W")
    selling(db, "A", "W", per_day=10, available=100)
    announce(db, "MSKU1", T0 - hours(24 * 10), T0 + hours(24 * 5), "PLN")
    announce(db, "MSKU1", T0 - hours(2), T0 + hours(24 * 8.5))
    return db


def test_fires_when_the_latest_eta_plus_handling_passes_the_stockout(slipped):
    found = run(slipped)
    f = found["MSKU1"]
    assert (f.severity, f.entity_type, round(f.metric), f.threshold) == ("yellow", "container", 36, 0)
    assert f.title == "Vessel ETA past stockout: MSKU1 (MAERSK ESSEN) for A at W"
    assert "slipped 84 h" in f.detail and f"with {MARGIN_H} h handling" in f.detail
    assert alert_text.title(RULE, f.title, "zh") != f.title and "MSKU1" in alert_text.title(RULE, f.title, "zh")
    assert alert_text.detail(RULE, f.detail, "zh") != f.detail
    # as of before the re-announcement, the plan arrived in time
    assert run(slipped, now=T0 - hours(3)) == {}
    # red once two days short
    announce(slipped, "MSKU1", T0 - hours(1), T0 + hours(24 * 9.5))
    assert run(slipped)["MSKU1"].severity == "red"


def test_clears_when_the_eta_comes_back(slipped):
    announce(slipped, "MSKU1", T0 + hours(1), T0 + hours(24 * 6))
    assert run(slipped, now=T0 + hours(2)) == {}
    assert "MSKU1" in run(slipped)                             # replaying T0 still shows it


def test_clears_when_stock_recovers(slipped):
    stock(slipped, "A", "W", T0 + hours(1), 400)
    assert run(slipped, now=T0 + hours(2)) == {}


def test_clears_when_the_vessel_arrives(slipped):
    announce(slipped, "MSKU1", T0 + hours(1), T0 + hours(1), "ACT")
    assert run(slipped, now=T0 + hours(2)) == {}


def test_quiet_when_another_shipment_restocks_first(slipped):
    po(slipped, "PO-2", "A", "W")
    put(slipped, "shipments", dict(shipment_id="air-1", po_id="PO-2", direction="inbound", mode="air",
                                   created_at=T0 - hours(24), eta=T0 + hours(24 * 3)))
    assert run(slipped) == {}


# ─── end to end: the sandbox delays vessels, DCSA events carry it, the engine alerts ──────────────


class Recorder:
    def __init__(self):
        self.notices = []

    def submit(self, notices):
        self.notices.extend(notices)

    def close(self):
        pass


def _scenarios(server, clock, body):
    r = requests.post(server.url + "/_sandbox/scenarios", json={"scenarios": body}, timeout=5)
    assert r.status_code == 200, r.text


def test_a_congested_port_delays_vessels_past_stockout_and_the_alert_clears_when_it_ends(tmp_path):
    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1), clock)
    cfg = write_config(tmp_path, server.url, sources={"dcsa": {"kind": "dcsa", "base_url": "{sandbox}/dcsa/v2"}})
    db = Database(cfg.db_path)
    try:
        # containers waiting at Yantian; each carries its own SKU to a warehouse that runs out
        # 12 h after the vessel's current ETA + handling
        waiting = [v for v in server.world.voyages(T0) if v.pol == "CNYTN" and v.po_number
                   and not any(m.what == "departed" for m in v.milestones)]
        assert len(waiting) >= 5
        for v in waiting:
            sku, stockout_at = f"S-{v.container}", v.etas[-1][1] + hours(MARGIN_H + 12)
            po(db, v.po_number, sku, "WH-V")
            selling(db, sku, "WH-V", per_day=100, available=round((stockout_at - T0) / hours(24) * 100))
        dcsa = build(cfg.sources["dcsa"], cfg)
        engine = AlertEngine(db, SETTINGS, clock, Recorder())
        assert sync(dcsa, db, clock).status == "ok"
        assert engine.evaluate().opened == []

        _scenarios(server, clock, [{"name": "port_congestion", "starts_at": T0.isoformat(),
                                    "ends_at": (T0 + hours(72)).isoformat()}])
        clock.advance(hours=3)
        assert sync(dcsa, db, clock).status == "ok"
        opened = engine.evaluate().opened
        alerts = db.df("select alert_id, entity_id, title, detail from alerts order by alert_id")
        assert len(opened) >= 3 and set(alerts.alert_id) == set(opened)
        slips = db.df("select equipment_reference, slip_hours from eta_known_at(?)", [clock.now()])
        slip = dict(zip(slips.equipment_reference, slips.slip_hours))
        assert all(slip[box] > 12 for box in alerts.entity_id)  # only the vessels the congestion delayed

        _scenarios(server, clock, [])                           # the port clears: vessels sail as planned
        clock.advance(hours=3)
        assert sync(dcsa, db, clock).status == "ok"
        back = engine.evaluate()
        still = db.df("select entity_id from alerts where state <> 'resolved'").entity_id.tolist()
        assert len(back.resolved) >= 3                         # most ETAs came back in time
        # whatever is still late once the ETAs came back clears when its stock is replenished
        for box in still:
            stock(db, f"S-{box}", "WH-V", clock.now() - timedelta(minutes=1), 100_000)
        clock.advance(minutes=10)
        engine.evaluate()
        assert db.df("select count(*) n from alerts where state <> 'resolved'").n[0] == 0
    finally:
        db.close()
        server.stop()
