"""Inbound shipments past their ETA alert, read "as of" the evaluation's now — on the synced
sandbox world (real connectors, real AfterShip format) and on hand-built rows for the edge cases."""
from __future__ import annotations

import pytest

from tower.alerts import rules
from tower.db import Database
from test_alerts_helpers import T0, hours, make_settings, put

SETTINGS = make_settings()


def past_eta(db, now):
    params = {"now": now, **SETTINGS.rules["shipment_past_eta"].params}
    with db.cursor() as cur:
        return {f.entity_id: f for f in rules.run(cur, "shipment_past_eta", params)}


def test_inbound_shipments_late_on_the_sandbox_are_flagged_at_the_time_they_were_late(sandbox_db, tmp_path):
    """Reported: an inbound shipment well past its ETA was not flagged. Replaying the synced world,
    every inbound shipment that was still on its way more than 12 h past its ETA must have been an
    alert then — the rule must not read today's delivery into an earlier 'now'."""
    db = Database(sandbox_db.copy_to(tmp_path))
    try:
        late = db.df("select shipment_id, eta, delivered_at from shipments "
                     "where direction = 'inbound' and delivered_at > eta + interval 13 hour "
                     "and created_at < delivered_at - interval 1 hour order by delivered_at")
        assert len(late) >= 5, "the sandbox world should have late inbound shipments"
        for row in late.itertuples():
            at = row.delivered_at.to_pydatetime() - hours(0.5)    # half an hour before it arrived
            found = past_eta(db, at)
            assert row.shipment_id in found, f"{row.shipment_id} late at {at} not flagged"
            f = found[row.shipment_id]
            hours_late = (at - row.eta.to_pydatetime()).total_seconds() / 3600
            assert f.metric == pytest.approx(hours_late)
            assert f.severity == ("red" if hours_late >= 48 else "yellow")
    finally:
        db.close()


def test_past_eta_edge_cases(tmp_path):
    db = Database(tmp_path / "e.duckdb")
    try:
        base = dict(direction="inbound", carrier="maersk", mode="sea", po_id="PO-1")
        put(db, "shipments",
            # the carrier has not sent a created_at: the pickup date places it in time
            dict(shipment_id="no-created", tracking_number="N1", tag="InTransit",
                 eta=T0 - hours(20), shipped_at=T0 - hours(200), **base),
            # AfterShip gave up on it (no news for 30 days): still stock that did not arrive
            dict(shipment_id="expired", tracking_number="X1", tag="Expired",
                 eta=T0 - hours(30), created_at=T0 - hours(900), **base),
            # delivered: never late
            dict(shipment_id="delivered", tracking_number="D1", tag="Delivered", eta=T0 - hours(30),
                 delivered_at=T0 - hours(20), created_at=T0 - hours(300), **base),
            # an outbound parcel: lanes handle those
            dict(shipment_id="parcel", tracking_number="P1", tag="InTransit", eta=T0 - hours(30),
                 created_at=T0 - hours(300), **{**base, "direction": "outbound"}))
        found = past_eta(db, T0)
        assert set(found) == {"no-created", "expired"}
        assert found["no-created"].severity == "yellow" and found["expired"].severity == "yellow"
        assert past_eta(db, T0 - hours(15)).keys() == {"expired"}   # "no-created" still in its grace
    finally:
        db.close()
