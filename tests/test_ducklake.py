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
from pathlib import Path

import pytest

from tests.test_page_overview import values
from tests.ui_fixtures import open_app, tower_env  # noqa: F401
from tower import config, sql_console, store
from tower.auth.policy import local_admin

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
