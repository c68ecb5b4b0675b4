"""The scheduler against the real sandbox: sources run on their intervals, one run per source at a
time, faults and failing callbacks never stop the loop, snapshots get published, stop() joins."""
from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta, timezone
from itertools import combinations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from connectors.scheduler import SNAPSHOT_SHARE, Scheduler, next_due, phases, snapshot_gap
from connectors.testing import sources_for, write_config
from sandbox.server import start as start_sandbox
from tests.screens import DrawingScreen
from tower.clock import SimClock
from tower.config import SandboxConfig
from tower.db import Database

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _wait_for(predicate, timeout: float = 30.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture(scope="module")
def sandbox():
    # A real-time clock (speed 1), so run start/finish times in sync_runs are real and comparable.
    clock = SimClock(T0, speed=1.0)
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1.0), clock)
    yield server
    server.stop()


def _config(tmp_path, server, names, **kw):
    shops = [m.shop for m in server.world.merchants]
    sources = {k: v for k, v in sources_for(shops).items() if k in names}
    return write_config(tmp_path, server.url, sources=sources, **kw)


def _runs(db, source=None):
    df = db.df("select source, status, started_at, finished_at, error from sync_runs order by run_id")
    return df if source is None else df[df.source == source]


def test_scheduler_keeps_running_through_faults_and_broken_callbacks(sandbox, tmp_path):
    cfg = _config(tmp_path, sandbox, ["supplier_portal", "nps", "returns"], interval_s=0.3,
                  http={"read_timeout_s": 1, "retries": 0, "backoff_s": 0.01, "max_backoff_s": 0.05,
                        "max_total_wait_s": 0.1})
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock, tick_s=0.05)
    seen: list[tuple[str, str]] = []

    def broken_callback(name, result):
        raise RuntimeError("a bug in an alerts hook")
    sched.after_sync.append(broken_callback)
    sched.after_sync.append(lambda name, result: seen.append((name, result.status)))
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path_prefix": "/supplier-portal", "kind": "500", "count": 1000}, timeout=5)
    before = set(threading.enumerate())  # other tests' process-wide workers are not this scheduler's
    try:
        sched.start()
        assert _wait_for(lambda: ("supplier_portal", "failed") in seen
                         and sum(1 for s in seen if s == ("nps", "ok")) >= 3)
        assert sched.running
        requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
        failures = sum(1 for s in seen if s == ("supplier_portal", "failed"))
        assert _wait_for(lambda: ("supplier_portal", "ok") in seen)
        assert failures >= 1
    finally:
        sched.stop()
        requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    assert not sched.running
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("tower-")]
    runs = _runs(db)
    assert set(runs.status) <= {"ok", "failed", "partial"}  # nothing left `running` after stop()
    assert db.df("select count(*) n from purchase_orders").n[0] > 0  # the recovery run landed data
    # the recovery is recorded (not only seen by the callback); a later run may still time out on a
    # loaded machine (read timeout 1 s, no retries), so the last result is not asserted
    portal = _runs(db, "supplier_portal")
    assert "ok" in set(portal.status) and portal.status.iloc[0] == "failed"


def test_one_source_never_runs_twice_at_once(sandbox, tmp_path):
    """A slow source (every request delayed) on a short interval: runs of it never overlap."""
    cfg = _config(tmp_path, sandbox, ["nps", "supplier_portal"], interval_s=0.1)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock, tick_s=0.02)
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path_prefix": "/delighted", "kind": "timeout", "count": 6, "delay_s": 0.4},
                  timeout=5)
    try:
        sched.start()
        assert _wait_for(lambda: len(_runs(db, "nps")) >= 4, timeout=30)
        # run_once from another thread while the loop runs waits its turn instead of overlapping
        assert sched.run_once("nps").status == "ok"
    finally:
        sched.stop()
        requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    runs = _runs(db, "nps").sort_values("started_at")
    assert (runs.finished_at.iloc[:-1].values <= runs.started_at.iloc[1:].values).all()
    assert len(_runs(db, "supplier_portal")) >= 2  # the other source kept its own pace


def test_snapshot_job_publishes_a_readable_copy(sandbox, tmp_path):
    cfg = _config(tmp_path, sandbox, ["supplier_portal"], interval_s=0.2, snapshot_interval_s=0.3)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock, tick_s=0.05)
    try:
        sched.start()
        assert _wait_for(lambda: len(_runs(db, "supplier_portal")) >= 1 and cfg.snapshot_path.exists()
                         and _snapshot_count(cfg.snapshot_path) > 0)
    finally:
        sched.stop()
    assert not sched.running


def test_a_snapshot_is_copied_only_when_something_was_written_since(sandbox, tmp_path):
    """The analyst snapshot is a full copy (~2 GB at the reference scale): with nothing written since
    the last one it is not copied again; after a write it is."""
    cfg = _config(tmp_path, sandbox, ["supplier_portal"])
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    try:
        assert sched.snapshot() == cfg.snapshot_path
        first = cfg.snapshot_path.stat().st_mtime_ns
        assert sched.snapshot() is None and cfg.snapshot_path.stat().st_mtime_ns == first
        assert sched.run_once("supplier_portal").status == "ok"
        assert sched.snapshot() == cfg.snapshot_path and _snapshot_count(cfg.snapshot_path) > 0
        cfg.snapshot_path.unlink()  # a snapshot someone removed is written again
        assert sched.snapshot() == cfg.snapshot_path
    finally:
        sched.stop()
        db.close()


@given(st.lists(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 7, 13]), min_size=2, max_size=12))
def test_no_two_sources_are_ever_due_at_the_same_moment(intervals):
    """Started together, sources whose intervals share a multiple (the sandbox's 10–60 s all divide
    60) all committed in the same second every minute, queued on the write lock while the screens
    waited. Each source now runs on its own grid, offset so no two grids ever meet."""
    given_intervals = {f"source{i}": float(s) for i, s in enumerate(intervals)}
    offsets = phases(given_intervals)
    assert all(0 <= offsets[n] < min(intervals) for n in given_intervals)  # first runs: within the shortest
    for a, b in combinations(given_intervals, 2):
        meet = math.gcd(int(given_intervals[a]), int(given_intervals[b]))  # grids meet iff offsets agree mod
        apart = (offsets[a] - offsets[b]) % meet
        assert min(apart, meet - apart) > 1e-6, (a, b)


def test_a_source_keeps_its_phase_and_skips_the_slots_it_missed():
    assert next_due(100.5, 100.7, 10) == 110.5   # a late tick does not move the grid
    assert next_due(100.5, 125.0, 10) == 130.5   # ran long: the slots that passed are skipped
    assert next_due(100.5, 100.5, 10) == 110.5


@pytest.mark.parametrize("interval, took, gap", [(60, 0.2, 60), (60, 12, 120), (5, 2, 20)])
def test_snapshots_are_spaced_so_copying_takes_at_most_a_tenth_of_the_time(interval, took, gap):
    assert snapshot_gap(interval, took) == gap


def test_the_next_snapshot_is_spaced_from_the_start_and_length_of_the_last_copy(sandbox, tmp_path):
    """The loop used to schedule the next copy when it started one, from the copy before's length:
    at the reference scale (~24 s a copy) the second began while the first was still running."""
    cfg = _config(tmp_path, sandbox, ["supplier_portal"], snapshot_interval_s=0.01)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    try:
        began = time.monotonic()
        assert sched.snapshot() == cfg.snapshot_path
        took = sched.snapshot_took_s
        assert 0 < took <= time.monotonic() - began
        assert began + took / SNAPSHOT_SHARE <= sched.next_snapshot_at <= time.monotonic() + took / SNAPSHOT_SHARE
    finally:
        sched.stop()
        db.close()


def _snapshot_count(path) -> int:
    try:
        snap = Database(path, read_only=True)
    except Exception:  # being replaced at this instant
        return 0
    try:
        return int(snap.df("select count(*) n from purchase_orders").n[0])
    finally:
        snap.close()


def test_run_all_and_after_sync_report_each_source(sandbox, tmp_path):
    cfg = _config(tmp_path, sandbox, ["planning", "shopify", "supplier_portal"])
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    calls = []
    sched.after_sync.append(lambda name, result: calls.append((name, result.run_id, result.status)))
    results = sched.run_all()
    # planning (reference data) runs first so shopify can map stock to SKUs and warehouses
    assert list(results) == ["planning", "supplier_portal", "shopify"]
    assert [c[0] for c in calls] == list(results)
    assert {r.status for r in results.values()} == {"ok"}
    assert db.df("select count(*) n from stock_observations").n[0] > 0
    assert sorted(c[1] for c in calls) == sorted(_runs_ids(db))



def test_a_due_sync_starts_after_the_screens_have_drawn_and_a_direct_one_at_once(sandbox, tmp_path, screens_first):
    """The scheduler's own runs wait for a drawing screen (tower.foreground), at most its limit; a
    direct run_once (the command line's `sync`) does not."""
    cfg = _config(tmp_path, sandbox, ["nps"], interval_s=0.2)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock, tick_s=0.02)
    screen = DrawingScreen().start()
    try:
        sched.start()
        time.sleep(0.6)
        assert _runs(db).empty, "a sync started while a screen was drawing"
        ended = sandbox.clock.now()
        screen.stop()
        assert _wait_for(lambda: len(_runs(db)) >= 1, timeout=30)
        assert _runs(db).started_at.min() >= ended - timedelta(milliseconds=50)
    finally:
        sched.stop()
    screen = DrawingScreen().start()
    try:  # a stopped scheduler cancels its runs: a fresh one, as `python -m connectors sync` has
        began = time.monotonic()
        assert Scheduler(db, cfg, sandbox.clock).run_once("nps").status == "ok"
        assert time.monotonic() - began < 5
    finally:
        screen.stop()
    db.close()


def test_a_sync_waiting_for_the_screens_when_the_scheduler_stops_never_starts(sandbox, tmp_path, screens_first):
    cfg = _config(tmp_path, sandbox, ["nps", "returns"], interval_s=0.2)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock, tick_s=0.02)
    screen = DrawingScreen().start()
    sched.start()
    time.sleep(0.5)                   # both sources due, both waiting for the screen
    stopping = threading.Thread(target=sched.stop)
    stopping.start()
    time.sleep(0.2)
    screen.stop()
    stopping.join(30)
    assert _runs(db).empty            # stopped: the app closes the database next
    db.close()

def _runs_ids(db):
    return list(db.df("select run_id from sync_runs").run_id)


def test_unknown_kind_is_reported_and_the_rest_still_runs(sandbox, tmp_path):
    sources = sources_for([m.shop for m in sandbox.world.merchants])
    cfg = write_config(tmp_path, sandbox.url,
                       sources={"nps": sources["nps"], "odd": {"kind": "carrier-pigeon"}})
    sched = Scheduler(Database(cfg.db_path), cfg, sandbox.clock)
    assert "carrier-pigeon" in sched.build_errors["odd"]
    assert sched.run_all()["nps"].status == "ok"


def test_stop_cuts_a_snapshot_copy_short_and_keeps_the_last_published_one(sandbox, tmp_path):
    """At the reference scale a copy runs ~20 s; stopping the app must not wait for it (nor leave
    a half-written file for the next start)."""
    cfg = _config(tmp_path, sandbox, ["supplier_portal"])
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    try:
        assert sched.run_once("supplier_portal").status == "ok"
        assert sched.snapshot() == cfg.snapshot_path
        published = cfg.snapshot_path.read_bytes()
        with db.cursor() as cur:  # enough rows that the next copy is still running when stop() comes
            cur.execute("create table filler as select range as i, hash(range) as h from range(40000000)")
        copy = threading.Thread(target=sched.snapshot)
        copy.start()
        assert _wait_for(lambda: db._copying is not None, timeout=30, step=0.001)
        sched.stop()
        copy.join(5)
        assert not copy.is_alive(), "stop() waited for the whole copy"
        assert cfg.snapshot_path.read_bytes() == published
        assert [p.name for p in cfg.snapshot_path.parent.iterdir()] == [cfg.snapshot_path.name]
        assert sched.snapshot() is None  # a stopped scheduler starts no new copy
    finally:
        sched.stop()
        db.close()
