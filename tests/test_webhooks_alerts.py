"""Webhook-fed changes reach the alert engine promptly: after the loader loads a batch the engine
re-evaluates (no waiting for its timer, which these tests never start), and a burst of deliveries
does not evaluate once per delivery (at most about once a second). Real receiver on loopback,
real DuckDB, real rule SQL."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from test_alerts_helpers import make_settings
from test_webhooks import post_tracking, scalar, tower_config, wait_for

from connectors import webhooks
from connectors.webhooks.debounce import Debounced
from tower import runtime as runtime_mod
from tower.alerts.engine import AlertEngine
from tower.clock import ManualClock
from tower.db import Database

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def tracking(tid: str, updated_at: datetime, tag: str, subtag: str, event_id: str) -> bytes:
    return json.dumps({"event": "tracking_update", "event_id": event_id, "ts": int(updated_at.timestamp()),
                       "msg": {"id": tid, "tracking_number": f"TN-{tid}", "slug": "maersk", "tag": tag,
                               "subtag": subtag, "updated_at": updated_at.isoformat(),
                               "created_at": T0.isoformat(), "checkpoints": []}}).encode()


class Counting:
    """The engine's after_sync, counted (how often the webhook path evaluated)."""
    def __init__(self, engine):
        self.engine, self.calls = engine, 0

    def __call__(self):
        self.calls += 1
        self.engine.after_sync()


@pytest.fixture
def tower_with_alerts(tmp_path):
    cfg = tower_config(tmp_path, sources=("aftership",))
    db = Database.for_config(cfg)
    clock = ManualClock(T0 + timedelta(hours=2))
    engine = AlertEngine(db, make_settings(engine={"min_interval_s": 0}, only=["shipment_exception"]), clock)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    evaluations = Counting(engine)
    hooks.after_load(evaluations, min_interval_s=1.0)
    yield hooks, db, evaluations
    hooks.stop()
    db.close()


def open_alerts(db, entity: str) -> int:
    return scalar(db, "select count(*) from alerts where rule = 'shipment_exception' and entity_id = $e "
                      "and resolved_at is null", {"e": entity})


def test_a_webhook_turning_a_shipment_into_exception_opens_its_alert_without_the_timer(tower_with_alerts):
    hooks, db, evaluations = tower_with_alerts
    assert post_tracking(hooks, tracking("trk-x", T0 + timedelta(hours=1), "InTransit", "InTransit_002", "e1")) == 200
    assert wait_for(lambda: evaluations.calls >= 1, timeout=5)       # evaluated after the load …
    assert open_alerts(db, "trk-x") == 0                             # … nothing wrong yet
    time.sleep(1.1)  # past the debounce pause, so the next load evaluates at once
    sent = time.monotonic()
    assert post_tracking(hooks, tracking("trk-x", T0 + timedelta(hours=2), "Exception", "Exception_013", "e2")) == 200
    assert wait_for(lambda: open_alerts(db, "trk-x") == 1, timeout=5), db.df("select * from alert_rule_runs")
    assert time.monotonic() - sent < 3.0
    assert scalar(db, "select severity from alerts where entity_id = 'trk-x'") == "red"   # lost


def test_a_burst_of_webhooks_is_evaluated_about_once_a_second_not_once_per_delivery(tower_with_alerts):
    hooks, db, evaluations = tower_with_alerts
    started = time.monotonic()
    n = 120
    for i in range(n):
        status = "Exception" if i == n - 1 else "InTransit"
        subtag = "Exception_005" if i == n - 1 else "InTransit_002"
        assert post_tracking(hooks, tracking(f"trk-{i}", T0 + timedelta(hours=1), status, subtag, f"b{i}")) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == n, timeout=15)
    # the last delivery of the burst is still evaluated (the trailing run), without the timer
    assert wait_for(lambda: open_alerts(db, f"trk-{n - 1}") == 1, timeout=5)
    elapsed = time.monotonic() - started
    assert 1 <= evaluations.calls <= elapsed + 2, (evaluations.calls, elapsed)
    assert evaluations.calls < n / 10


def test_debounced_runs_at_once_then_folds_a_burst_into_one_more_run():
    calls = []
    d = Debounced(lambda: calls.append(time.monotonic()), min_interval_s=0.5)
    try:
        start = time.monotonic()
        for _ in range(1000):
            d.poke()
        assert wait_for(lambda: len(calls) >= 1, timeout=2)
        assert calls[0] - start < 0.3                       # the first poke runs at once
        time.sleep(0.8)
        assert len(calls) <= 2                              # 1,000 pokes, at most two runs
        d.poke()
        assert wait_for(lambda: len(calls) == len(set(calls)) and len(calls) >= 2, timeout=2)
        assert all(b - a >= 0.45 for a, b in zip(calls, calls[1:]))
    finally:
        d.stop()


def test_debounced_runs_again_while_the_callback_says_not_done():
    answers = [False, False, True]
    d = Debounced(lambda: answers.pop(0) if answers else True, min_interval_s=0.05)
    try:
        d.poke()
        assert wait_for(lambda: not answers, timeout=2)
        time.sleep(0.2)
        assert d.runs == 3
    finally:
        d.stop()


def test_an_evaluation_the_engine_coalesced_is_retried_so_the_webhook_is_not_left_for_the_timer(tmp_path):
    """The engine skips an evaluation closer than its min_interval_s (clock time) to the last one;
    the app's after-load callback then tries again until it goes through."""
    cfg = tower_config(tmp_path, sources=("aftership",))
    db = Database.for_config(cfg)
    clock = ManualClock(T0 + timedelta(hours=2))
    engine = AlertEngine(db, make_settings(engine={"min_interval_s": 60}, only=["shipment_exception"]), clock)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    listener = hooks.after_load(runtime_mod.alerts_after_webhooks(engine), min_interval_s=0.2)
    try:
        engine.evaluate()                       # just evaluated: the next one within 60 s is skipped
        assert post_tracking(hooks, tracking("trk-r", T0 + timedelta(hours=2), "Exception", "Exception_013", "r1")) == 200
        assert wait_for(lambda: listener.runs >= 2, timeout=5)      # tried, skipped, tried again …
        assert open_alerts(db, "trk-r") == 0
        clock.advance(seconds=61)                                    # … until the engine accepts
        assert wait_for(lambda: open_alerts(db, "trk-r") == 1, timeout=5)
        time.sleep(0.3)  # the accepting run is counted after its alert is visible (CI read 2, then 3)
        runs = listener.runs
        time.sleep(0.6)
        assert listener.runs == runs                                 # done: no more retries
    finally:
        hooks.stop()
        db.close()
