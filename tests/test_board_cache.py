"""One computation for every screen (issue 15): board results are keyed on (database file, data
version, name, parameters with `now` rounded up to the cache quantum). Screens with the same filters
at the same data version share one run of the KPI SQL (also when they ask at the same moment); a
committed sync moves the version so the very next render shows the new number (no TTL to wait
out); reads never move it; and a merchant's cached numbers are never served to anyone else.

Real DuckDB files built through the migrations; SQL runs are counted by a Database subclass that
counts `df` calls (every KPI and board query goes through it)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from connectors import derived
from connectors.base import Table
from connectors.writes import upsert
from tests.ui_fixtures import ROOT, populated_db, tower_env  # noqa: F401
from tower import kpis, merchant_snapshot
from tower.db import Database
from tower.ui import filters as filters_mod
from tower.ui import frame
from tower.ui.context import QUANTUM_WALL_S, Context, as_of

NPS_TABLE = Table("nps_responses", ("response_id",), "merge")  # as connectors.nps writes it


class CountingDatabase(Database):
    """The real Database, counting the SQL statements the board runs through it."""

    def __init__(self, *a, **kw):
        self.sql_runs = 0
        super().__init__(*a, **kw)

    def df(self, sql, params=None):
        self.sql_runs += 1
        return super().df(sql, params)


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def screen(db, now, *, merchant=None, scope=None) -> Context:
    """What context() builds for a wall screen at `now` (a live window, 1× clock)."""
    state = filters_mod.ViewState(window="live", kiosk=True, refresh=5, merchant=merchant)
    at = as_of(now)
    return Context(db=db, now=now, filters=filters_mod.resolve(state, at), lang="en", kiosk=True,
                   refresh_s=5, state=state, tz="UTC", scope=scope, as_of=at)


def tile_values(tiles) -> dict:
    return {t.kpi.name: t.value for t in tiles}


def nps_detractor(db, now, response_id="N-new") -> None:
    """A sync's commit: one new NPS answer (score 0) upserted in one transaction, as connectors do."""
    with db.cursor() as cur:
        cur.begin()
        upsert(cur, NPS_TABLE, [{"response_id": response_id, "order_id": "ORD-OLD-1",
                                 "merchant_id": "green-living", "market": "US", "score": 0,
                                 "comment": None, "created_at": now - timedelta(minutes=5),
                                 "updated_at": now - timedelta(minutes=5)}])
        cur.commit()


def quantum_start(now):
    """An instant early in the quantum holding `now`, so `now` + 3 s stays in the same quantum."""
    return as_of(now) + timedelta(seconds=1)


def test_two_screens_with_the_same_filters_run_the_kpi_sql_once(populated_db):
    db = CountingDatabase(populated_db.path)
    now = quantum_start(populated_db.now)
    first = frame.kpi_tiles(screen(db, now))
    runs = db.sql_runs
    assert runs > 0
    second = frame.kpi_tiles(screen(db, now + timedelta(seconds=QUANTUM_WALL_S - 2)))  # later screen
    assert db.sql_runs == runs, "the second screen recomputed the board"
    assert tile_values(second) == tile_values(first)
    ctx = screen(db, now)
    ctx.kpi("on_time_rate", bucket="hour")
    runs = db.sql_runs
    screen(db, now).kpi("on_time_rate", bucket="hour")
    assert db.sql_runs == runs
    db.close()


def test_screens_missing_at_the_same_moment_compute_once(populated_db):
    db = CountingDatabase(populated_db.path)
    now = quantum_start(populated_db.now)
    barrier = threading.Barrier(6)
    results = []

    def one_screen():
        barrier.wait()
        results.append(tile_values(frame.kpi_tiles(screen(db, now))))

    threads = [threading.Thread(target=one_screen) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    once = db.sql_runs
    st.cache_data.clear()
    frame.kpi_tiles(screen(db, now))
    assert once == db.sql_runs - once, "six screens missing together ran the SQL more than once"
    assert len(results) == 6 and all(r == results[0] for r in results)
    db.close()


def test_a_committed_sync_moves_the_version_and_the_next_render_shows_it(populated_db):
    db = Database(populated_db.path)
    now = quantum_start(populated_db.now)
    before = tile_values(frame.kpi_tiles(screen(db, now)))
    assert before["nps"] == pytest.approx(25.0)  # 10, 9, 7, 3 → 2 promoters, 1 detractor of 4
    version = db.data_version()
    nps_detractor(db, populated_db.now)
    assert db.data_version() != version
    after = tile_values(frame.kpi_tiles(screen(db, now + timedelta(seconds=1))))  # same quantum
    assert after["nps"] == pytest.approx(0.0)  # 2 promoters, 2 detractors of 5: shown at once
    db.close()


def test_a_rolled_back_write_and_reads_never_move_the_version(populated_db):
    db = Database(populated_db.path)
    version = db.data_version()
    now = populated_db.now
    frame.kpi_tiles(screen(db, now))
    for name in kpis.WAR_ROOM:
        screen(db, now).kpi(name, bucket="hour")
    screen(db, now).query("ops/filter_options")
    db.snapshot(populated_db.path.parent / "snapshot" / "tower.duckdb")
    with db.cursor() as cur:
        cur.execute("begin")
        cur.execute("select count(*) from orders").fetchone()
        cur.execute("commit")
        cur.begin()
        upsert(cur, NPS_TABLE, [{"response_id": "N-x", "order_id": "ORD-OLD-1", "merchant_id": "green-living",
                                 "market": "US", "score": 1, "comment": None, "created_at": now,
                                 "updated_at": now}])
        cur.rollback()
    assert db.data_version() == version
    db.close()


def test_merchants_never_share_cached_numbers(populated_db):
    db = Database(populated_db.path)
    snapshot = db.snapshot(populated_db.path.parent / "snapshot" / "tower.duckdb")
    mine = CountingDatabase(merchant_snapshot.fresh(snapshot, "nordic-nest"), read_only=True)
    theirs = CountingDatabase(merchant_snapshot.fresh(snapshot, "green-living"), read_only=True)
    now = quantum_start(populated_db.now)
    # Same filters, same parameters (no scope pinned): only the database differs.
    their_tiles = tile_values(frame.kpi_tiles(screen(theirs, now)))
    my_tiles = tile_values(frame.kpi_tiles(screen(mine, now)))
    assert mine.sql_runs > 0, "a merchant was served another merchant's cached tiles"
    assert their_tiles["nps"] == pytest.approx(25.0)
    assert my_tiles["nps"] is None  # Nordic Nest has no survey answers of its own
    assert tile_values(kpis.tiles(mine, kpis.WAR_ROOM, screen(mine, now).params())) == my_tiles
    # Pinned as the app pins them, the parameters differ too.
    scoped = frame.kpi_tiles(screen(mine, now, merchant="nordic-nest", scope="nordic-nest"))
    assert tile_values(scoped)["nps"] is None
    for d in (mine, theirs, db):
        d.close()


def test_the_quantum_rounds_up_so_a_row_that_arrived_is_inside_the_window(populated_db):
    now = populated_db.now.replace(microsecond=0) + timedelta(seconds=1)
    at = as_of(now)
    assert now <= at < now + timedelta(seconds=QUANTUM_WALL_S)
    sim = as_of(now, speed=60)  # the 60× sandbox: the quantum is 5 simulated minutes
    assert now <= sim < now + timedelta(minutes=QUANTUM_WALL_S)
    start = quantum_start(now)  # two screens 3 s apart inside one quantum: one key
    assert as_of(start) == as_of(start + timedelta(seconds=QUANTUM_WALL_S - 2))


def nps_tile(at) -> str:
    label = kpis.get("nps").title("en")
    return next(m.value for m in at.metric if m.label == label)


def test_the_app_shows_a_synced_number_on_the_next_rerun(tower_env, populated_db):
    tower_env(populated_db.path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["window"] = "live"
    at.run()
    assert not at.exception
    assert nps_tile(at) == "+25"  # NPS is shown signed
    nps_detractor(frame.runtime().db, populated_db.now)  # the runtime's own database: a sync's commit
    at.run()  # the next refresh, seconds later: no TTL to wait out
    assert not at.exception
    assert nps_tile(at) in ("0", "+0")


def test_every_writer_style_moves_the_version(populated_db):
    """Writers commit three ways (connectors: cur.begin()/commit(); the alert engine and notifier:
    execute("begin") … execute("commit"); audit rows and run rows: one auto-committed statement).
    Each moves the version once it is committed, and the board then shows the change."""
    db = Database(populated_db.path)
    now = populated_db.now
    answer = "insert into nps_responses (response_id, order_id, merchant_id, market, score, created_at, " \
             "updated_at) values ($id, 'ORD-OLD-1', 'green-living', 'US', 0, $at, $at)"
    with db.cursor() as cur:
        version = db.data_version()
        cur.execute("begin")
        cur.execute(answer, {"id": "N-a", "at": now - timedelta(minutes=5)})
        assert db.data_version() == version  # not committed yet: other screens must not re-read
        cur.execute("commit")
        assert db.data_version() != version
        version = db.data_version()
        cur.execute(answer, {"id": "N-b", "at": now - timedelta(minutes=5)})  # auto-commit
        assert db.data_version() != version
        derived.rebuild(cur)  # raw rows written around connectors.writes.upsert: rollups recomputed
    assert tile_values(frame.kpi_tiles(screen(db, now)))["nps"] == pytest.approx(-100 / 6, abs=0.01)  # 2 promoters, 3 detractors of 6
    db.close()
