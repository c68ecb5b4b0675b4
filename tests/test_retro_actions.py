"""The retro's response figures (issue 13): alert → first action sent against the 1-hour target,
and the lost sales the actions avoided, on literal rows through the real schema, checked against a
computation by hand from the same literals."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tower import retro
from tower.db import Database
from tower.ui import fmt
from ui_fixtures import build_db, open_app, tower_env  # noqa: F401

T0 = datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)     # the event starts
END = T0 + timedelta(hours=12)                               # … and ends
h = lambda n: T0 + timedelta(hours=n)                        # noqa: E731
PRICE = 12.0


def alert(alert_id, entity, opened, rule="demand_surge"):
    return {"alert_id": alert_id, "rule": rule, "entity_type": "sku_market", "entity_id": entity,
            "severity": "red", "state": "open", "title": f"surge {entity}", "playbook": "demand_surge",
            "opened_at": opened, "first_seen_at": opened, "last_seen_at": opened, "updated_at": opened}


def action(action_id, alert_id, status, proposed, sent, diagnosis, step=1):
    return {"action_id": action_id, "idempotency_key": f"k-{action_id}", "execution_id": f"B-03/alert-{alert_id}",
            "playbook": "B-03", "step": step, "alert_id": alert_id, "kind": "raise_po", "mode": "automatic",
            "params": json.dumps({"quantity": 500}), "diagnosis": json.dumps(diagnosis),
            "estimated_cost": 900.0, "status": status, "proposed_by": "automatic:B-03", "proposed_at": proposed,
            "sent_at": sent, "attempts": 1 if sent else 0, "updated_at": sent or proposed}


@pytest.fixture
def world(tmp_path):
    rows = {
        "skus": [{"sku": "GL-BOWL-01", "name": "Bowl", "sku_class": "core", "unit_price": PRICE, "updated_at": h(-99)},
                 {"sku": "GL-CUP-02", "name": "Cup", "sku_class": "core", "unit_price": 8.0, "updated_at": h(-99)}],
        "warehouses": [{"warehouse_id": "US-WEST-LA", "market": "US", "kind": "overseas", "updated_at": h(-99)},
                       {"warehouse_id": "EU-DE-HAM", "market": "DE", "kind": "3pl", "updated_at": h(-99)}],
        "events": [{"event_id": "member-day", "name": "Member Day", "starts_at": T0, "ends_at": END,
                    "kind": "promotion", "source": "planning", "updated_at": T0}],
        "alerts": [alert(1, "GL-BOWL-01@US", h(2)),          # acted on in 40 min
                   alert(2, "GL-CUP-02@US", h(3)),           # acted on after 95 min: late
                   alert(3, "GL-CUP-02@DE", h(4)),           # nothing sent, target passed: late
                   alert(4, "GL-BOWL-01@DE", h(-5))],        # before the event: not in the retro
        "actions": [
            # alert 1: the PO went out 40 min after the alert; its diagnosis: 20 units/h, 3 h to stockout
            action(1, 1, "acknowledged", h(2) + timedelta(minutes=35), h(2) + timedelta(minutes=40),
                   {"units_per_hour": 20.0, "hours_to_stockout": 3.0, "available": 60}),
            action(2, 1, "sent", h(2) + timedelta(minutes=35), h(2) + timedelta(minutes=50),
                   {"units_per_hour": 99.0, "hours_to_stockout": 0.1}, step=2),
            # alert 2: proposed at once, approved late, sent 95 min after the alert
            action(3, 2, "sent", h(3) + timedelta(minutes=5), h(3) + timedelta(minutes=95),
                   {"units_per_hour": 6.0, "hours_to_stockout": 10.0}),
            # alert 3: rejected, never sent
            action(4, 3, "rejected", h(4) + timedelta(minutes=10), None, {"units_per_hour": 2.0}),
        ],
        # the bowl in LA ran dry at h(7) and came back at h(9): an observed 2 h stockout
        "stock_observations": [
            {"sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "observed_at": h(0), "available": 100},
            {"sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "observed_at": h(7), "available": 0},
            {"sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "observed_at": h(9), "available": 300},
        ],
        # 40 bowls sold from LA in the 4 h before it ran dry: 10 units/h pre-stockout pace
        "orders": [{"order_id": f"O{i}", "market": "US", "warehouse_id": "US-WEST-LA",
                    "created_at": h(3.5 + i), "updated_at": h(3.5 + i)} for i in range(4)],
        "order_lines": [{"order_id": f"O{i}", "line_id": "1", "sku": "GL-BOWL-01", "quantity": 10, "price": PRICE}
                        for i in range(4)],
    }
    rows["action_transitions"] = [
        {"transition_id": i + 1, "action_id": a["action_id"], "happened_at": a["sent_at"], "wall_at": a["sent_at"],
         "from_status": "sending", "to_status": "sent", "actor": "engine"}
        for i, a in enumerate(r for r in rows["actions"] if r["sent_at"])]
    path = build_db(tmp_path / "retro_actions.duckdb", rows)
    db = Database(path)
    yield db, rows
    db.close()


def test_first_action_time_against_the_one_hour_target(world):
    db, rows = world
    now = END + timedelta(hours=1)
    got = retro.action_response(db, retro.Window(T0, END), now).set_index("alert_id")
    assert list(got.index) == [1, 2, 3]                   # alert 4 opened before the event
    # by hand: the earliest sent_at of each alert's actions minus its opening time
    assert got.loc[1, "minutes_to_first_action"] == pytest.approx(40.0)
    assert got.loc[2, "minutes_to_first_action"] == pytest.approx(95.0)
    assert got.loc[3, "first_action_at"] is None or str(got.loc[3, "first_action_at"]) in ("NaT", "None")
    assert [bool(got.loc[i, "on_target"]) for i in (1, 2, 3)] == [True, False, False]
    assert list(got["actions"]) == [2, 1, 1]


def test_avoided_lost_sales_equal_a_computation_by_hand(world):
    db, rows = world
    now = END + timedelta(hours=1)
    got = retro.action_response(db, retro.Window(T0, END), now).set_index("alert_id")
    # alert 1: the first sent action (id 1) was proposed at h(2)+35 min with 3 h to stockout at 20/h
    projected = h(2) + timedelta(minutes=35) + timedelta(hours=3)
    expected_units = 20.0 * (END - projected).total_seconds() / 3600          # 20/h × 6 h 25 min
    observed_units = 2.0 * (40 / 4)                                           # 2 h dry × 10/h before it
    assert got.loc[1, "expected_lost_units"] == pytest.approx(expected_units)
    assert got.loc[1, "observed_lost_units"] == pytest.approx(observed_units)
    assert got.loc[1, "avoided_units"] == pytest.approx(expected_units - observed_units)
    assert got.loc[1, "avoided_sales"] == pytest.approx((expected_units - observed_units) * PRICE)
    # alert 2: projected stockout at h(3)+5 min + 10 h = after nothing of the event is left uncovered?
    projected2 = h(3) + timedelta(minutes=5) + timedelta(hours=10)
    assert got.loc[2, "expected_lost_units"] == pytest.approx(max((END - projected2).total_seconds() / 3600, 0) * 6.0)
    totals = retro.response_totals(got.reset_index())
    assert totals["acted"] == 2 and totals["on_target_share"] == pytest.approx(1 / 3)
    assert totals["avoided_sales"] == pytest.approx((expected_units - observed_units) * PRICE
                                                    + got.loc[2, "avoided_sales"])


def test_no_action_log_means_no_figures_not_a_crash(tmp_path):
    db = Database(build_db(tmp_path / "empty.duckdb", {}))
    try:
        got = retro.action_response(db, retro.Window(T0, END), END)
        assert got is not None and got.empty
        assert retro.response_totals(got)["avoided_sales"] == 0.0
    finally:
        db.close()


def test_the_retro_page_shows_the_same_figures(world, tower_env):
    """pages/retro.py (AppTest through app.py) draws the response section from the same rows."""
    db, rows = world
    expected = retro.response_totals(retro.action_response(db, retro.Window(T0, END), END + timedelta(hours=1)))
    path = db.path
    db.close()
    tower_env(path)
    at = open_app("pages/retro.py")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Lost sales avoided by actions"] == fmt.money(expected["avoided_sales"], "en")
    assert metrics["Acted on"] == "2 / 3"
    table = next(d.value for d in at.dataframe if "Minutes to first action" in d.value.columns)
    assert list(table["Minutes to first action"]) == ["40.0", "95.0", "—"]
    assert list(table["Within target"]) == ["🟢 yes", "🔴 no", "🔴 no"]
