"""DuckLake store (issue 15 item 5) against a real PostgreSQL catalog started here: connector worker
processes write concurrently, nothing is lost or doubled on the natural keys, and stopping the catalog
mid-sync leaves no partial sync while the worker resumes when it returns.

Needs the DuckLake extension wheels matching the installed DuckDB (requirements-ducklake.txt, see
docs/ducklake.md) and PostgreSQL's server binaries (Debian's `postgresql`)."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import queries
from connectors import derived, lake_derived
from connectors.lake_writes import write_sync
from connectors.records import Table
from tests.test_page_overview import values
from tests.ui_fixtures import open_app, tower_env  # noqa: F401
from tower import config, kpis, sql_console, store
from tower.auth.policy import local_admin
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent
# Debian's `postgresql` puts the server under /usr/lib/postgresql/<major>/bin (newest major wins)
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))
WORKER = ROOT / "tests" / "lake_worker.py"
PAGE_FILES = [f"pages/{p.name}" for p in sorted((ROOT / "pages").glob("*.py")) if p.name != "__init__.py"]

try:
    store.extension_path("ducklake"), store.extension_path("postgres_scanner")
    LAKE_READY = ""
except store.LakeUnavailable as e:
    LAKE_READY = str(e)

pytestmark = [
    pytest.mark.skipif(bool(LAKE_READY), reason=f"DuckLake extensions: {LAKE_READY}"),
    pytest.mark.skipif(not (PG_BIN / "postgres").exists(), reason="PostgreSQL server not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster: unix socket in a temp dir, no TCP. PostgreSQL refuses to run
    as root, so as root (CI) the server runs as the `postgres` user the Debian package creates."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.data, self.sock = root / "data", root / "sock"
        self.sock.mkdir(parents=True)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            uid = pwd.getpwnam("postgres")
            for p in (root, self.sock):
                os.chown(p, uid.pw_uid, uid.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "tower", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(PG_BIN / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.sock} -c listen_addresses=''", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def dsn(self) -> str:
        return f"dbname=postgres host={self.sock} port={self.port} user=tower"


@pytest.fixture
def postgres():
    pg = Postgres(Path(tempfile.mkdtemp(prefix="tower-pg-")))  # not under pytest's root-only tmp
    pg.start()
    yield pg
    try:
        pg.stop()
    except subprocess.CalledProcessError:
        pass  # already stopped by the test
    shutil.rmtree(pg.root, ignore_errors=True)


def start_worker(pg: Postgres, data_path: Path, worker: int, syncs: int) -> subprocess.Popen:
    env = {**os.environ, "TOWER_STORE_CATALOG_DSN": pg.dsn}
    return subprocess.Popen([sys.executable, str(WORKER), f"{data_path}/", str(worker), str(syncs)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def lake_rows(pg: Postgres, data_path: Path, query: str):
    con = store.open_lake(pg.dsn, f"{data_path}/")
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def lake_db(pg: Postgres, data: Path) -> Database:
    """An app server's view of the lake (tower.store.database without a config file)."""
    data.mkdir(parents=True, exist_ok=True)
    return Database.over_connection(store.open_lake(pg.dsn, f"{data}/"), data / "unused.duckdb", source="lake",
                                    allowed_dirs=[data], search_path="lake.main,memory.main")


DERIVED = ("tracking_latest", "stock_latest", "po_progress_latest", "rollup_orders", "rollup_lines",
           "rollup_answers", "rollup_order_hours", "rollup_survey_hours", "rollup_line_hours")
NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
ORDERS, LINES = Table("orders", ("order_id",)), Table("order_lines", ("order_id", "line_id"), "merge", None)
SHIPMENTS, NPS = Table("shipments", ("shipment_id",)), Table("nps_responses", ("response_id",))


def rows_of(cur) -> dict:
    """Every derived table's rows (without `settled_at`, the moment a row was last computed)."""
    return {t: sorted(map(tuple, cur.execute(f"select * from {t}").df()
                          .drop(columns=["settled_at"], errors="ignore").astype(str).values))
            for t in DERIVED}


def derived_rows(db: Database) -> dict:
    with db.cursor() as cur:
        return rows_of(cur)


def rebuilt_rows(db: Database) -> dict:
    """The derived tables recomputed from the lake's raw rows (rolled back afterwards)."""
    with db.cursor() as cur:
        cur.begin()
        derived.rebuild(cur)
        rows = rows_of(cur)
        cur.rollback()
    return rows


def kpi(db: Database, name: str, raw: bool) -> list:
    params = {"start": NOW - timedelta(days=2), "end": NOW, "now": NOW, "dimension": "carrier", "bucket": None}
    with db.cursor() as cur:
        cur.execute(queries.load("rollups/raw_only"), {"raw": raw})
        sql = queries.kpi_call(name)
        return sorted(map(tuple, cur.execute(sql, kpis.bind(sql, params)).df().astype(str).values))


def test_the_maintainer_keeps_the_lakes_derived_tables_equal_to_a_rebuild(postgres, tmp_path):
    """Workers only merge raw rows; one maintainer follows the lake's change feed. Run alongside two
    workers, then over orders, a parcel moved to another order and a changed survey answer, the
    derived tables equal a rebuild from the raw rows and the rolled-up KPIs equal the raw ones."""
    data = tmp_path / "lake"
    db = lake_db(postgres, data)
    try:
        workers = [start_worker(postgres, data, w, 6) for w in (1, 2)]
        while any(w.poll() is None for w in workers):  # the maintainer runs while they commit
            lake_derived.catch_up(db)
            time.sleep(0.3)
        for w in workers:
            out, _ = w.communicate(timeout=240)
            assert w.returncode == 0, out
        h = lambda hours: NOW - timedelta(hours=hours)  # noqa: E731
        write_sync(db.con, [
            (ORDERS, [{"order_id": o, "merchant_id": "m1", "channel": "web", "market": "US", "warehouse_id": "W1",
                       "created_at": h(30), "promised_delivery_at": h(5), "updated_at": h(30)} for o in ("o1", "o2")]),
            (LINES, [{"order_id": o, "line_id": "1", "sku": "SKU-A", "quantity": 2} for o in ("o1", "o2")]),
            (SHIPMENTS, [{"shipment_id": "p1", "order_id": "o1", "direction": "outbound", "carrier": "ups",
                          "shipped_at": h(20), "delivered_at": h(8), "updated_at": h(8)}]),
            (NPS, [{"response_id": "n1", "order_id": "o1", "score": 9, "created_at": h(6), "updated_at": h(6)}]),
        ])
        assert lake_derived.catch_up(db) > 0
        write_sync(db.con, [  # the parcel was o2's all along; the customer changed their answer
            (SHIPMENTS, [{"shipment_id": "p1", "order_id": "o2", "direction": "outbound", "carrier": "dhl",
                          "shipped_at": h(20), "delivered_at": h(4), "updated_at": h(4)}]),
            (NPS, [{"response_id": "n1", "order_id": "o1", "score": 3, "created_at": h(3), "updated_at": h(3)}]),
        ])
        assert lake_derived.catch_up(db) > 0
        assert lake_derived.catch_up(db) == 0  # caught up: a second pass has nothing to do
        maintained = derived_rows(db)
        assert len(maintained["tracking_latest"]) == 5 * 20 + 40 and maintained["rollup_orders"]
        assert maintained == rebuilt_rows(db)
        for name in ("on_time_rate", "nps", "order_accuracy"):
            assert kpi(db, name, raw=False) == kpi(db, name, raw=True), name
        assert kpi(db, "nps", raw=False)[0][2] == "-100.0"  # one answer, a detractor now
    finally:
        db.close()


def test_two_workers_write_concurrently_and_nothing_is_lost_or_doubled(postgres, tmp_path):
    data = tmp_path / "lake"
    workers = [start_worker(postgres, data, w, 8) for w in (1, 2)]
    for w in workers:
        out, _ = w.communicate(timeout=240)
        assert w.returncode == 0, out
    con = store.open_lake(postgres.dsn, f"{data}/")
    # syncs 0…7 cover shipments s00000 … s00179, each exactly once, at its newest version
    n, distinct, newest = con.execute(
        "select count(*), count(distinct shipment_id), max(updated_at) from lake.shipments").fetchone()
    assert n == distinct == 7 * 20 + 40
    assert newest.minute == 7
    n, distinct = con.execute(
        "select count(*), count(distinct (shipment_id, checkpoint_time, tag, message)) "
        "from lake.tracking_events").fetchone()
    assert n == distinct == 8 * 40  # both workers wrote every checkpoint; stored once
    assert con.execute("select count(*) from lake.snapshots()").fetchone()[0] >= 8


def test_catalog_stopped_mid_sync_leaves_no_partial_sync_and_the_worker_resumes(postgres, tmp_path):
    data = tmp_path / "lake"
    worker = start_worker(postgres, data, 1, 30)
    seen = []
    for line in worker.stdout:  # wait until a few syncs landed, then pull the catalog away
        seen.append(line)
        if line.startswith("sync 3 committed"):
            break
    postgres.stop()
    time.sleep(2)
    assert worker.poll() is None, "the worker must wait for the catalog, not die"
    postgres.start()
    out, _ = worker.communicate(timeout=240)
    seen.append(out)
    assert worker.returncode == 0, "".join(seen)
    assert any("attempt(s)" in l and not l.endswith("after 1 attempt(s)") for l in "".join(seen).splitlines()), \
        "at least one sync had to be retried while the catalog was down"
    con = store.open_lake(postgres.dsn, f"{data}/")
    assert con.execute("select count(*), count(distinct shipment_id) from lake.shipments").fetchone() \
        == (29 * 20 + 40, 29 * 20 + 40)
    # every snapshot holds whole syncs: each sync's 40 checkpoints are all there or none is
    versions = con.execute(
        "select snapshot_id from lake.snapshots() where snapshot_id >= (select min(snapshot_id) "
        "from lake.snapshots() where map_contains(changes, 'tables_created'))").fetchall()
    assert len(versions) >= 30
    for (version,) in versions:
        per_sync = con.execute("select message, count(*) from lake.tracking_events at (version => $v) "
                               "group by message", {"v": version}).fetchall()
        assert all(n == 40 for _, n in per_sync), (version, per_sync)


def test_an_app_server_renders_the_overview_from_the_lake(postgres, tmp_path, tower_env, monkeypatch):
    data = tmp_path / "lake"
    worker = start_worker(postgres, data, 1, 3)
    out, _ = worker.communicate(timeout=240)
    assert worker.returncode == 0, out
    monkeypatch.setenv("TOWER_STORE_CATALOG_DSN", postgres.dsn)
    # the embedded file path is never created: the app reads the lake the workers wrote
    unused = tmp_path / "unused" / "tower.duckdb"
    cfg_path = tower_env(unused, f"""
        [store]
        kind = "ducklake"
        data_path = "{data}/"
    """)
    at = open_app()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["War room"]
    # the in-transit mix counts the lake's shipments: syncs 0…2 wrote s00000 … s00079, all in transit
    transit = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"][0]
    assert transit["y"] == ["In transit"] and values(transit["x"]) == [80]
    # every page renders from the lake (the SQL console reads a snapshot copied from the lake)
    for page in PAGE_FILES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
    assert not unused.exists()

    # a second app server: the analyst's SQL console answers from a snapshot of the lake
    cfg = config.load(cfg_path)
    db = store.database(cfg)
    try:
        answer = sql_console.run(db, "select count(*) as n from shipments", who=local_admin(),
                                 snapshot_path=cfg.snapshot_path)
        assert answer.df["n"].tolist() == [80]
    finally:
        db.close()
