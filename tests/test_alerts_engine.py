"""The engine: hold/clear counts, no flapping, escalation in place, one alert per (rule, entity),
acknowledge-target escalation on a ManualClock, broken rules isolated. Real DuckDB, real rule SQL."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from connectors.testing import write_config
from tower.alerts import lifecycle, rules
from tower.alerts.engine import AlertEngine
from tower.clock import ManualClock, SimClock
from tower.db import Database
from test_alerts_helpers import MEI, T0, make_settings, policy, stock
from tests.screens import DrawingScreen


class Recorder:
    """A notifier stand-in at the engine boundary: collects notices (delivery has its own tests)."""
    def __init__(self):
        self.notices = []

    def submit(self, notices):
        self.notices.extend(notices)

    def close(self):
        pass


@pytest.fixture
def world(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    clock = ManualClock(T0)
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    rec = Recorder()
    engine = AlertEngine(db, make_settings(engine={"hold_count": 2, "clear_count": 3, "min_interval_s": 0},
                                           only=["stock_watermark"]), clock, rec)
    yield db, clock, engine, rec
    db.close()


def step(db, clock, engine, available, minutes=10):
    clock.advance(minutes=minutes)
    stock(db, "SKU-A", "WH-1", clock.now(), available)
    return engine.evaluate()


def alerts(db):
    return db.df("select * from alerts order by alert_id")


def actions(db, alert_id=None):
    df = db.df("select * from alert_log order by log_id")
    if alert_id is not None:
        df = df[df.alert_id == alert_id]
    return list(df.action)


def test_hold_count_before_firing_and_clear_count_before_resolving(world):
    db, clock, engine, rec = world
    assert step(db, clock, engine, 90).opened == []          # 1st sighting: held back
    assert alerts(db).empty
    r = step(db, clock, engine, 90)                           # 2nd in a row: fires
    assert len(r.opened) == 1
    a = alerts(db).iloc[0]
    assert (a.state, a.severity, a.entity_id) == ("open", "yellow", "SKU-A@WH-1")
    assert a.first_seen_at < a.opened_at                      # first sighting kept for the retro
    for _ in range(2):                                        # two clear looks: still open
        assert step(db, clock, engine, 150).resolved == []
    assert alerts(db).iloc[0].state == "open"
    r = step(db, clock, engine, 150)                          # third clear look: resolves itself
    assert r.resolved == [a.alert_id]
    a = alerts(db).iloc[0]
    assert (a.state, a.resolved_by) == ("resolved", "engine")
    assert actions(db) == ["opened", "resolved"]
    assert [n.event for n in rec.notices] == ["opened", "resolved"]


def test_oscillating_metric_gives_one_alert_not_many(world):
    db, clock, engine, rec = world
    # Around the warning line (100): below, below, then flapping for hours.
    for available in [95, 95] + [105, 95] * 12 + [96, 104, 99]:
        step(db, clock, engine, available, minutes=2)   # all inside the 1-hour ack target
    df = alerts(db)
    assert len(df) == 1 and df.iloc[0].state == "open"
    assert actions(db) == ["opened"]
    assert len(rec.notices) == 1
    # A single blip below the line never fires on its own.
    db2 = df.iloc[0].alert_id
    for available in [150, 150, 150]:
        step(db, clock, engine, available)
    for available in [95, 150, 95, 150, 150, 150]:
        step(db, clock, engine, available)
    assert len(alerts(db)) == 1 and alerts(db).iloc[0].alert_id == db2
    assert alerts(db).iloc[0].state == "resolved"


def test_severity_always_matches_the_metric_shown_and_changes_in_place(world):
    """Reported: a demand surge showed RED at 154 % of forecast with red at 200 %. The alert had hit
    red earlier and the engine kept the peak severity while refreshing the metric and title."""
    db, clock, engine, rec = world
    step(db, clock, engine, 90)
    step(db, clock, engine, 90)
    first = alerts(db).iloc[0]
    assert first.severity == "yellow"
    r = step(db, clock, engine, 10)                           # below the limit watermark (20)
    assert r.escalated == [first.alert_id] and r.opened == []
    a = alerts(db)
    assert len(a) == 1
    assert (a.iloc[0].alert_id, a.iloc[0].severity, a.iloc[0].threshold) == (first.alert_id, "red", 20)
    step(db, clock, engine, 50)                               # back above the limit, still below warning
    a = alerts(db).iloc[0]
    assert (a.alert_id, a.severity, a.metric, a.threshold) == (first.alert_id, "yellow", 50, 100)
    assert "below warning" in a.title
    log = db.df("select action, old_value, new_value from alert_log "
                "where action in ('escalated', 'deescalated') order by log_id")
    assert list(log.itertuples(index=False, name=None)) == [
        ("escalated", "yellow", "red"), ("deescalated", "red", "yellow")]
    # Wobbling around the red line: the severity follows, but only the first rise is notified.
    for available in (10, 50, 10):
        step(db, clock, engine, available)
    assert alerts(db).iloc[0].severity == "red"
    assert [n.event for n in rec.notices] == ["opened", "escalated"]
    assert rec.notices[1].severity == "red"


def test_an_alert_opened_red_that_dips_and_returns_is_not_announced_again(world):
    db, clock, engine, rec = world
    for available in (10, 10, 50, 10, 50, 10):
        step(db, clock, engine, available)
    a = alerts(db)
    assert len(a) == 1 and a.iloc[0].severity == "red"
    assert actions(db).count("deescalated") == 2 and actions(db).count("escalated") == 2
    assert [(n.event, n.severity) for n in rec.notices] == [("opened", "red")]


def test_unacknowledged_past_target_reminds_once_on_red_channels_with_its_own_severity(world):
    db, clock, engine, rec = world
    step(db, clock, engine, 90)
    step(db, clock, engine, 90)
    alert_id = int(alerts(db).iloc[0].alert_id)
    clock.advance(minutes=59)
    assert engine.evaluate().ack_overdue == []
    clock.advance(minutes=2)                                  # 61 min after it opened
    assert engine.evaluate().ack_overdue == [alert_id]
    clock.advance(minutes=30)
    assert engine.evaluate().ack_overdue == []                # only once
    overdue = [n for n in rec.notices if n.event == "ack_overdue"]
    assert len(overdue) == 1
    # A yellow alert stays yellow in the message; the reminder is routed like a red one.
    assert (overdue[0].severity, overdue[0].route_severity) == ("yellow", "red")
    assert "[YELLOW]" in overdue[0].headline
    assert alerts(db).iloc[0].severity == "yellow"
    assert alerts(db).iloc[0].ack_overdue_at == T0 + timedelta(minutes=20 + 61)
    assert actions(db, alert_id).count("ack_overdue") == 1


def test_acknowledged_or_snoozed_alerts_do_not_escalate(world):
    db, clock, engine, rec = world
    stock(db, "SKU-B", "WH-1", T0, 5)
    policy(db, "SKU-B", "WH-1", warning=100, limit=20)
    step(db, clock, engine, 90)
    step(db, clock, engine, 90)
    ids = dict(zip(alerts(db).entity_id, alerts(db).alert_id))
    lifecycle.acknowledge(db, ids["SKU-A@WH-1"], MEI, "calling the 3PL", clock.now())
    lifecycle.snooze(db, ids["SKU-B@WH-1"], clock.now() + timedelta(hours=2), MEI, clock.now())
    clock.advance(minutes=90)
    assert engine.evaluate().ack_overdue == []
    clock.advance(minutes=60)                                 # snooze over, still unacknowledged
    assert engine.evaluate().ack_overdue == [ids["SKU-B@WH-1"]]


def test_one_open_alert_per_rule_and_entity_and_manual_resolve_waits_for_a_clear(world):
    db, clock, engine, rec = world
    for _ in range(4):
        step(db, clock, engine, 90)
    assert len(alerts(db)) == 1
    alert_id = int(alerts(db).iloc[0].alert_id)
    lifecycle.resolve(db, alert_id, MEI, "moved stock from WH-2", clock.now())
    for _ in range(4):                                        # condition still true: no re-open
        step(db, clock, engine, 90)
    assert len(alerts(db)) == 1
    step(db, clock, engine, 150)                              # it clears once …
    step(db, clock, engine, 90)
    step(db, clock, engine, 90)                               # … and comes back: a new alert
    df = alerts(db)
    assert len(df) == 2 and list(df.state) == ["resolved", "open"]


def test_a_broken_rule_is_recorded_and_the_others_still_run(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    clock = ManualClock(T0)
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    stock(db, "SKU-A", "WH-1", T0, 5)
    settings = make_settings(engine={"hold_count": 1, "min_interval_s": 0},
                             only=["stock_watermark", "demand_surge"])
    # Remove a threshold the demand_surge SQL needs: a config mistake, not a crash.
    rule = settings.rules["demand_surge"]
    broken = {k: v for k, v in rule.params.items() if k != "yellow_percent"}
    settings.rules["demand_surge"] = type(rule)(**{**rule.__dict__, "params": broken})
    engine = AlertEngine(db, settings, clock, Recorder())
    r = engine.evaluate()
    assert "demand_surge" in r.errors and "yellow_percent" in r.errors["demand_surge"]
    assert len(r.opened) == 1
    runs = db.df("select rule, error from alert_rule_runs order by rule")
    assert runs.set_index("rule").error.isna().to_dict() == {"demand_surge": False, "stock_watermark": True}
    db.close()


def test_calls_closer_than_min_interval_are_coalesced(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    clock = ManualClock(T0)
    engine = AlertEngine(db, make_settings(engine={"min_interval_s": 60}, only=["stock_watermark"]),
                         clock, Recorder())
    assert not engine.evaluate().skipped
    clock.advance(seconds=30)
    assert engine.evaluate().skipped
    clock.advance(seconds=31)
    assert not engine.evaluate().skipped
    db.close()


def test_syncs_finishing_during_an_evaluation_cost_one_more_not_one_each(world):
    db, clock, engine, _ = world
    ran, release = [], threading.Event()

    def slow(evaluation):  # the first evaluation takes a while, as one does at the reference scale
        ran.append(evaluation)
        if len(ran) == 1:
            release.wait(10)

    engine.after_evaluate.append(slow)
    first = threading.Thread(target=engine.after_sync)
    first.start()
    while not ran:
        time.sleep(0.01)
    clock.advance(minutes=10)
    stock(db, "SKU-A", "WH-1", clock.now(), 5)   # new data, then nine more syncs finish
    began = time.monotonic()
    for _ in range(9):
        engine.after_sync()
    assert time.monotonic() - began < 1, "a sync waited for the running evaluation"
    release.set()
    first.join(10)
    assert len(ran) == 2 and not any(e.skipped for e in ran)
    # the one more evaluation ran after the new data arrived, at its moment
    assert ran[1].at == clock.now()
    engine.after_sync()                          # and with nothing running, a sync evaluates itself
    assert len(ran) == 3


def test_syncs_inside_the_wall_floor_cost_one_evaluation_when_it_ends_and_their_data_is_not_lost(tmp_path):
    """On the 60× sandbox the clock-time floor is half a wall second; `min_interval_wall_s` keeps
    evaluations (~0.75 CPU-s each at the reference scale) to one per floor however often sources
    finish, and the syncs inside it are evaluated when it ends, not left for the timer."""
    db = Database(tmp_path / "t.duckdb")
    clock = ManualClock(T0)
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    engine = AlertEngine(db, make_settings(engine={"hold_count": 1, "min_interval_s": 0, "min_interval_wall_s": 1.0},
                                           only=["stock_watermark"]), clock, Recorder())
    ran = []
    engine.after_evaluate.append(ran.append)
    try:
        engine.after_sync()                      # the first sync evaluates at once
        assert len(ran) == 1 and ran[0].findings == 0
        clock.advance(minutes=10)
        stock(db, "SKU-A", "WH-1", clock.now(), 5)   # then stock falls below the limit, and
        for _ in range(5):                           # five syncs finish inside the floor
            engine.after_sync()
        assert len(ran) == 1, "a sync inside the floor evaluated"
        deadline = time.monotonic() + 5
        while len(ran) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(ran) == 2 and ran[1].opened, "the deferred evaluation did not run on the new data"
        time.sleep(1.2)
        assert len(ran) == 2                         # one evaluation for the five syncs
        assert not engine.evaluate().skipped         # a direct call (a test, a person) is not held back;
        assert engine.evaluate_when_due().skipped    # the timer's and webhooks' way is
    finally:
        engine.stop()
        db.close()


@pytest.mark.parametrize("second", ["timer_or_webhooks", "sync"])
def test_a_trigger_that_waited_for_a_running_evaluation_does_not_repeat_it(tmp_path, monkeypatch, second):
    """The timer and the webhooks passed the wall floor before the evaluation under way finished,
    then waited for it and evaluated everything again (11 of 73 evaluations in a reference soak,
    ~0.75 CPU-s each). The floor is judged once the lock is held; a sync's data is still evaluated
    when the floor ends."""
    db = Database(tmp_path / "t.duckdb")
    clock = ManualClock(T0)
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    engine = AlertEngine(db, make_settings(engine={"hold_count": 1, "min_interval_s": 0, "min_interval_wall_s": 1.0},
                                           only=["stock_watermark"]), clock, Recorder())
    ran, inside, release = [], threading.Event(), threading.Event()
    engine.after_evaluate.append(ran.append)
    run_rule = rules.run

    def slow_first(*args):   # the first evaluation takes a while, as one does at the reference scale
        if not inside.is_set():
            inside.set()
            release.wait(10)
        return run_rule(*args)

    monkeypatch.setattr(rules, "run", slow_first)
    try:
        first = threading.Thread(target=engine.evaluate_when_due)
        first.start()
        assert inside.wait(10)
        results = []
        waiting = threading.Thread(target=lambda: results.append(
            engine.evaluate_when_due() if second == "timer_or_webhooks" else engine.after_sync()))
        waiting.start()
        time.sleep(0.2)                          # it passed the floor and waits for the lock
        release.set()
        first.join(10)
        waiting.join(10)
        assert len(ran) == 1, "the waiting trigger evaluated everything again"
        if second == "timer_or_webhooks":
            assert results[0].skipped            # the webhooks' debouncer tries again later
        else:                                    # the sync's data is evaluated when the floor ends
            deadline = time.monotonic() + 5
            while len(ran) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(ran) == 2 and ran[1].at == clock.now()
    finally:
        engine.stop()
        db.close()


@pytest.mark.parametrize("trigger", ["timer_or_webhooks", "sync"])
def test_the_apps_own_evaluations_start_after_the_screens_have_drawn(world, screens_first, trigger):
    """The timer's, the webhooks' and a finished sync's evaluation waits for a drawing screen
    (tower.foreground); a direct call — a person, a test — does not."""
    db, clock, engine, _ = world
    ran = []
    engine.after_evaluate.append(lambda evaluation: ran.append(time.monotonic()))
    screen = DrawingScreen().start()
    job = threading.Thread(target=engine.evaluate_when_due if trigger == "timer_or_webhooks" else engine.after_sync)
    job.start()
    time.sleep(0.4)
    assert not ran, "an evaluation ran while a screen was drawing"
    screen.stop()
    job.join(10)
    assert len(ran) == 1 and ran[0] >= screen.ended_at
    screen = DrawingScreen().start()
    try:
        clock.advance(minutes=10)
        assert not engine.evaluate().skipped and len(ran) == 2
    finally:
        screen.stop()



def test_an_evaluation_waiting_for_the_screens_when_the_app_stops_never_starts(world, screens_first, caplog):
    """Stopping the app closes the database right after the engine: an evaluation that was
    waiting for a screen to finish drawing must not start on it (one did, at the end of a soak)."""
    db, clock, engine, _ = world
    ran = []
    engine.after_evaluate.append(ran.append)
    screen = DrawingScreen().start()
    waiting = [threading.Thread(target=engine.after_sync), threading.Thread(target=engine.evaluate_when_due)]
    for job in waiting:
        job.start()
    time.sleep(0.2)
    engine.stop()
    db.close()
    screen.stop()
    for job in waiting:
        job.join(10)
    assert not ran
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]

def test_sources_are_judged_stale_against_their_interval_in_clock_time(tmp_path):
    """tower.toml intervals are wall seconds; on a 60× sandbox clock a 60 s source syncs hourly, so
    it is stale after 3 clock hours, not after the 30-minute floor."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9", interval_s=60)
    db = Database(cfg.db_path)
    try:
        engine = AlertEngine.from_config(db, cfg, SimClock(T0, speed=60))
        assert engine.source_intervals and set(engine.source_intervals.values()) == {60.0}
        with db.cursor() as cur:
            cur.execute("insert into sync_runs (run_id, source, status, started_at, finished_at) "
                        "values (1, ?, 'ok', ?, ?)", [next(iter(cfg.sources)), T0, T0])
        rule = engine.config.rules["source_stale"]
        for minutes, expected in ((150, set()), (200, {"yellow"})):
            with db.cursor() as cur:
                found = rules.run(cur, "source_stale", engine._params(rule, T0 + timedelta(minutes=minutes)))
            assert {f.severity for f in found} == expected, minutes
    finally:
        db.close()
