"""Stale-while-revalidate for wall screens (tower.ui.revalidate): a screen's own refresh never waits
for the board to be computed when a recent result of the same board exists; the exact result is
computed once in the background however many screens ask, and the next refresh shows it; a result
older than the limit, or a full run, is never served stale.

The last test drives it through the real tiles of a wall screen on a real DuckDB file: after a
committed sync the screen's refresh shows the previous number at once, and a later refresh the new
one, without the screen computing anything itself."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_board_cache import _fresh_cache, nps_detractor, quantum_start, screen, tile_values  # noqa: F401
from tests.screens import DrawingScreen
from tests.ui_fixtures import populated_db  # noqa: F401
from tower.db import Database
from tower.ui import frame, revalidate
from tower.ui.revalidate import Revalidator, fixed_shape, freeze

SHAPE = ("kpi", "tower.duckdb", "nps")


def eventually(check, timeout_s: float = 20.0):
    """Poll `check()` until it returns something truthy (the background thread's result)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if out := check():
            return out
        time.sleep(0.02)
    raise AssertionError("the background computation never landed")


def test_a_full_run_always_computes_its_exact_result():
    cache, calls = Revalidator(), []
    for version in (1, 1, 2):
        got = cache.get(SHAPE, version, lambda v=version: calls.append(v) or f"v{v}",
                        lambda: pytest.fail("a full run never waits on the background"), stale_ok=False)
        assert got == f"v{version}"
    assert calls == [1, 1, 2]  # Streamlit's own cache (the `compute` callable) decides what to reuse


def test_a_refresh_gets_the_recent_board_at_once_and_the_exact_one_next():
    cache = Revalidator()
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    release, started = threading.Event(), threading.Event()

    def slow_v2():
        started.set()
        release.wait(10)
        return "v2"

    t0 = time.monotonic()
    assert cache.get(SHAPE, 2, lambda: pytest.fail("the screen computed it"), slow_v2, stale_ok=True) == "v1"
    assert time.monotonic() - t0 < 1, "the refresh waited for the computation"
    assert started.wait(5)
    # still computing: another refresh gets v1 again, without starting a second computation
    assert cache.get(SHAPE, 2, lambda: pytest.fail("computed twice"), slow_v2, stale_ok=True) == "v1"
    assert cache.served_stale == 2
    release.set()
    eventually(lambda: cache.get(SHAPE, 2, lambda: "x", lambda: "v2", stale_ok=True) == "v2")


def test_twenty_screens_asking_for_the_same_new_board_compute_it_once():
    cache, runs = Revalidator(), []
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    gate = threading.Event()

    def v2():
        gate.wait(10)
        runs.append(2)
        return "v2"

    answers = [cache.get(SHAPE, 2, lambda: "screen", v2, stale_ok=True) for _ in range(20)]
    assert answers == ["v1"] * 20
    gate.set()
    eventually(lambda: cache.get(SHAPE, 2, lambda: "x", v2, stale_ok=True) == "v2")
    assert runs == [2]


def test_only_the_newest_request_of_a_board_is_computed():
    cache, runs = Revalidator(), []
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    gate = threading.Event()
    other = ("kpi", "tower.duckdb", "csat")
    cache.get(other, 1, lambda: "c1", lambda: "unused", stale_ok=False)
    # the worker is busy on another board while versions 2 and 3 of this one are asked for
    cache.get(other, 2, lambda: "x", lambda: gate.wait(10) and "c2", stale_ok=True)
    versions = {v: (lambda v=v: runs.append(v) or f"v{v}") for v in (2, 3)}
    for version, compute in versions.items():
        cache.get(SHAPE, version, lambda: "x", compute, stale_ok=True)
    gate.set()
    eventually(lambda: cache.get(SHAPE, 3, lambda: "x", versions[3], stale_ok=True) == "v3")
    assert runs == [3]


def test_the_worker_ends_when_idle_and_the_next_stale_answer_restarts_it():
    cache = Revalidator(idle_exit_s=0.1)
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    assert cache.get(SHAPE, 2, lambda: pytest.fail("computed here"), lambda: "v2", stale_ok=True) == "v1"
    first = cache._worker
    eventually(lambda: first is not None and not first.is_alive())  # no thread outlives the screens
    assert cache.get(SHAPE, 2, lambda: "x", lambda: "x", stale_ok=True) == "v2"
    assert cache.get(SHAPE, 3, lambda: pytest.fail("computed here"), lambda: "v3", stale_ok=True) == "v2"
    eventually(lambda: cache.get(SHAPE, 3, lambda: "x", lambda: "v3", stale_ok=True) == "v3")
    assert cache.wait_idle(5)


def test_a_board_older_than_the_limit_is_computed_by_the_screen():
    cache = Revalidator(max_stale_s=0.05)
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    time.sleep(0.1)
    assert cache.get(SHAPE, 2, lambda: "v2 now", lambda: pytest.fail("served stale"), stale_ok=True) == "v2 now"


def test_a_failing_background_run_keeps_the_old_board_then_the_screen_sees_the_error():
    cache = Revalidator(max_stale_s=0.3)
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)

    def broken():
        raise RuntimeError("catalog away")

    assert cache.get(SHAPE, 2, lambda: "x", broken, stale_ok=True) == "v1"
    time.sleep(0.4)
    with pytest.raises(RuntimeError, match="catalog away"):
        cache.get(SHAPE, 2, broken, broken, stale_ok=True)  # the page's usual failure path shows it


def test_a_rolling_window_keeps_its_shape_across_quanta_and_a_fixed_one_its_fixed_shape():
    t = datetime(2026, 11, 11, 12, 0, 5, tzinfo=UTC)
    later = t + timedelta(seconds=5)
    rolling = lambda now: {"start": now - timedelta(hours=24), "end": now, "now": now, "merchant": None}  # noqa: E731
    assert freeze(rolling(t), t) == freeze(rolling(later), later)
    assert freeze(rolling(t)) != freeze(rolling(later))  # the exact key still differs
    event = {"start": datetime(2026, 11, 11, 8, tzinfo=UTC), "end": datetime(2026, 11, 11, 16, tzinfo=UTC)}
    assert freeze({**event, "now": t}, t) != freeze({**event, "now": later}, later)
    assert fixed_shape({**event, "now": t}) == fixed_shape({**event, "now": later})
    assert fixed_shape(rolling(t)) != fixed_shape(rolling(later))
    other_event = {**event, "start": datetime(2026, 11, 11, 9, tzinfo=UTC)}
    assert fixed_shape({**event, "now": t}) != fixed_shape({**other_event, "now": t})
    assert freeze({"markets": ["US", "DE"]}) == freeze({"markets": ("US", "DE")})


def test_an_event_board_refreshed_in_the_next_quantum_is_served_from_the_last_one():
    """The war room's default window is the running event (fixed start and end): a refresh in a new
    quantum finds the board under its fixed shape and never computes it in the foreground."""
    cache, foreground = Revalidator(), []
    event = {"start": datetime(2026, 11, 11, 8, tzinfo=UTC), "end": datetime(2026, 11, 11, 16, tzinfo=UTC)}

    def ask(now: datetime, version: int, stale_ok: bool) -> str:
        params = {**event, "now": now}
        return cache.get(("q", freeze(params, now)), (version, freeze(params)),
                         lambda: foreground.append(now) or f"v{version}", lambda: f"v{version}",
                         stale_ok=stale_ok, aliases=(("q", fixed_shape(params)),))

    t = datetime(2026, 11, 11, 12, 0, 5, tzinfo=UTC)
    assert ask(t, 1, stale_ok=False) == "v1"                            # the screen's first, full run
    assert ask(t + timedelta(seconds=5), 2, stale_ok=True) == "v1"      # next quantum, new data: at once
    assert foreground == [t]
    assert eventually(lambda: ask(t + timedelta(seconds=5), 2, stale_ok=True) == "v2")
    # another event's board is never served for this one
    other = {**event, "start": datetime(2026, 11, 11, 9, tzinfo=UTC)}
    assert cache.get(("q", freeze({**other, "now": t}, t)), (3, freeze({**other, "now": t})),
                     lambda: "other", lambda: "other", stale_ok=True,
                     aliases=(("q", fixed_shape({**other, "now": t})),)) == "other"
    assert cache.wait_idle()


def test_a_wall_screen_refresh_after_a_sync_shows_the_last_board_then_the_new_number(populated_db):
    db = Database(populated_db.path)
    revalidate.shared.clear()
    now = quantum_start(populated_db.now)
    before = tile_values(frame.kpi_tiles(screen(db, now)))          # the screen's first, full run
    nps_detractor(db, now)                                           # a connector commits
    refresh = replace(screen(db, now), stale_ok=True)
    assert tile_values(frame.kpi_tiles(refresh)) == before           # at once: the last board
    exact = tile_values(frame.kpi_tiles(screen(db, now)))            # what a full run computes now
    assert exact["nps"] < before["nps"]
    # a later refresh shows the new number, computed in the background
    eventually(lambda: tile_values(frame.kpi_tiles(refresh)) == exact)
    assert revalidate.shared.wait_idle()
    db.close()


def test_the_background_computes_a_board_only_after_the_screens_asking_for_it_have_drawn(screens_first):
    """The worker computing the exact board starts once the screens of the tick are drawn
    (tower.foreground): computing it during the tick slowed the very screens it was for."""
    cache = Revalidator()
    cache.get(SHAPE, 1, lambda: "v1", lambda: "unused", stale_ok=False)
    computed_at = []
    screen = DrawingScreen().start()
    with screens_first.drawing():     # this screen's refresh: served at once, as before
        assert cache.get(SHAPE, 2, lambda: pytest.fail("the screen computed it"),
                         lambda: computed_at.append(time.monotonic()) or "v2", stale_ok=True) == "v1"
    time.sleep(0.4)
    assert not computed_at, "the board was computed while a screen was drawing"
    screen.stop()
    eventually(lambda: cache.get(SHAPE, 2, lambda: "x", lambda: "v2", stale_ok=True) == "v2")
    assert computed_at[0] >= screen.ended_at
