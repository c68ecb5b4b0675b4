"""Adversarial suite for the SQL console (issue 12): every way out we could think of — writes in
plain, commented, mixed-case, multi-statement, CTE-wrapped, EXPLAIN-wrapped and string-escape forms;
files outside (and inside) the data folder, through `..`, `~`, URLs, computed paths and a symlink that
points out; server settings and file paths; memory and time bombs. Each must be refused or stopped
with a message in words, and afterwards the app's database, the snapshot and every file in and around
the data folder are byte-for-byte unchanged, no file has appeared, and this (the app's) process has
not grown. The console runs each attempt in its own child process, as in the app."""
import hashlib
import os
import resource
import signal
import threading
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from tower import console_worker
from tower import sql_console as sc
from tower.auth.policy import Identity
from tower.db import Database

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PARAMS = {"start": T0, "end": T0 + timedelta(days=1), "now": T0, "market": None}
ANALYST = Identity("escapes-sub", "escape artist", frozenset({"analyst"}))
AS_ANALYST = {"who": ANALYST, "per_minute": 0}   # the rate limit has its own test (test_roles_matrix)
ORDERS = "insert into orders (order_id, market, created_at) values ('o1', 'US', $t), ('o2', 'DE', $t)"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A data folder as in production (live database, published snapshot, an export) plus a secret
    outside it and a symlink inside it that points to the secret's folder."""
    root = tmp_path_factory.mktemp("escapes")
    data, outside = root / "data", root / "outside"
    data.mkdir()
    outside.mkdir()
    (outside / "secret.csv").write_text("token\nTOP-SECRET-42\n")
    db = Database(data / "tower.duckdb")
    db.cursor().execute(ORDERS, {"t": T0})
    db.cursor().execute("checkpoint")
    db.snapshot(data / "snapshot" / "tower.duckdb")
    (data / "exports").mkdir()
    (data / "exports" / "plan.csv").write_text("sku,units\nA,5\n")
    (data / "link").symlink_to(outside, target_is_directory=True)
    yield {"db": db, "data": data, "outside": outside, "secret": outside / "secret.csv",
           "rss": _rss()}
    db.close()


def _rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


LIVE_FILES = ("tower.duckdb", "tower.duckdb.wal")   # the audit trail appends a row to it per query


def fingerprint(*folders) -> dict:
    """Every file under the folders (symlinks not followed): size, mtime and content hash. The live
    database itself is compared by content instead (`live_rows`): every query appends an audit row."""
    seen = {}
    for folder in folders:
        for here, dirs, files in os.walk(folder, followlinks=False):
            for name in dirs + files:
                path = os.path.join(here, name)
                if here == str(folder) and name in LIVE_FILES:
                    continue
                st = os.lstat(path)
                digest = ""
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                seen[path] = (st.st_size, st.st_mtime_ns, digest)
    return seen


def attempt(world, template, *, time_limit_s=10.0):
    """Run one escape attempt; returns the exception it ended with (None if it ran)."""
    sql = template.format(data=world["data"], outside=world["outside"], secret=world["secret"])
    before, rows_before = fingerprint(world["data"], world["outside"]), live_rows(world["db"])
    try:
        sc.run(world["db"], sql, params=PARAMS, time_limit_s=time_limit_s, snapshot_max_age_s=3600,
               **AS_ANALYST)
        outcome = None
    except (sc.Refused, sc.QueryFailed) as e:
        outcome = e
    assert fingerprint(world["data"], world["outside"]) == before, "a file changed or appeared"
    assert world["db"].df("select count(*) as n from orders")["n"][0] == 2
    rows_after = live_rows(world["db"])
    assert rows_after.pop("audit_log") == rows_before.pop("audit_log") + 1, "the attempt was not audited"
    assert rows_after == rows_before, "the live database changed"
    assert _rss() < world["rss"] + 300 * 2**20, "the app's process grew"
    if outcome is not None:
        message = str(outcome)
        assert len(message) > 20 and "Traceback" not in message, message
        assert "TOP-SECRET-42" not in message and "database is not available" not in message, message
    return outcome


def live_rows(db) -> dict:
    """Rows per table of the live database, and the schema's tables."""
    tables = [t for (t,) in db.cursor().execute("select table_name from duckdb_tables() order by 1").fetchall()]
    return {t: db.cursor().execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


def assert_refused(world, template):
    outcome = attempt(world, template)
    assert isinstance(outcome, sc.Refused), f"{template!r} was not refused: {outcome!r}"
    assert "Nothing was run" in str(outcome) or "Parser Error" in str(outcome), str(outcome)
    return str(outcome)


# ── writes: plain, obfuscated, wrapped ─────────────────────────────────────────────────────────
WRITES_PLAIN = [
    "insert into orders (order_id) values ('evil')", "update orders set market = 'XX'",
    "delete from orders", "create table evil as select * from orders", "create view evil as select 1",
    "drop table orders", "alter table orders add column evil int", "create macro evil() as 1",
    "copy orders to '{data}/dump.csv'", "copy orders from '{secret}'", "copy orders to '{outside}/dump.csv'",
    "export database '{data}/export'", "attach '{data}/other.duckdb' as other",
    "attach ':memory:' as scratch", "detach tower", "install httpfs", "load parquet",
    "set threads = 64", "set memory_limit = '100GB'", "reset memory_limit", "set enable_external_access = true",
    "pragma enable_profiling", "pragma database_list", "call pragma_database_size()", "checkpoint",
    "force checkpoint", "vacuum orders", "begin transaction", "use memory",
    ("merge into orders using (select 'o1' as order_id) s on orders.order_id = s.order_id "
     "when matched then delete"),
    "copy from database tower to other", "create secret s (type s3, key_id 'x', secret 'y')",
]
WRITES_OBFUSCATED = [
    # nested and line comments
    "/* a /* nested */ comment */ copy orders to '{data}/nested.csv'",
    "/**/drop/**/table/**/orders", "-- harmless\ndelete from orders",
    "/* select 1; */ insert into orders (order_id) values ('c')",
    # mixed case and whitespace
    "DeLeTe\n\tFrOm   orders", "cOpY orders TO '{data}/mixed.csv' (FoRmAt CsV)", "DROP\nTABLE\norders",
    # several statements: a write after (or between) reads
    "select 1; drop table orders", "select 1;copy orders to '{data}/multi.csv'",
    "select 1 -- ;\n; delete from orders", "select 1; select 2; set threads = 1",
    "select ';'; update orders set market = 'XX'",
    # writes wrapped in a CTE
    "with d as (delete from orders returning *) select * from d",
    "with i as (insert into orders (order_id) values ('x') returning *) select count(*) from i",
    "with x as (select 1) insert into orders (order_id) select 'y' from x",
    "with u as (update orders set market = 'XX' returning *) select * from u",
    # EXPLAIN [ANALYZE] executes (or plans) its statement
    "explain analyze delete from orders", "EXPLAIN ANALYZE copy orders to '{data}/explain.csv'",
    "/* c */ EXPLAIN /* c */ ANALYZE /* c */ copy orders to '{data}/explain2.csv'",
    "explain (analyze) insert into orders (order_id) values ('e')",
    "explain (format json) delete from orders", "explain (format json, analyze) drop table orders",
    "-- x\nexplain analyze /* y /* z */ */ update orders set market = 'XX'",
    "explain analyze with d as (delete from orders returning *) select * from d",
    "explain explain analyze delete from orders",
    # string-escape forms
    "copy orders to E'{data}/escaped\\x2ecsv'", "copy orders to '{data}/quote''s.csv'",
    "copy (select ''';drop table orders;--') to '{data}/inj.csv'",
    "copy orders to U&'{data}/uni\\002ecsv'", "select 1; copy orders to $${data}/dollar.csv$$",
]


@pytest.mark.parametrize("template", WRITES_PLAIN + WRITES_OBFUSCATED)
def test_writes_are_refused_and_nothing_changes(world, template):
    assert_refused(world, template)


@pytest.mark.parametrize("template", [
    "select ''';drop table orders;--' as s",       # a string that looks like a write is just a string
    "select 'copy orders to ''{data}/x.csv''' as s",
    "select count(*) as n from orders /* drop table orders */",
])
def test_lookalike_reads_run_and_change_nothing(world, template):
    assert attempt(world, template) is None


# ── files ──────────────────────────────────────────────────────────────────────────────────────
FILE_READS = [
    "select * from read_text('/etc/passwd')", "select * from read_csv('{secret}')",
    "select * from read_blob('{secret}')", "select * from '{secret}'", "describe '{secret}'",
    "summarize '{secret}'", "select * from read_csv('{data}/../outside/secret.csv')",
    "select * from read_csv('~/secret.csv')", "select * from read_csv('file://{secret}')",
    "select * from read_csv('http://127.0.0.1:9/x.csv')", "select * from read_parquet('s3://bucket/x.parquet')",
    "select * from read_csv('{outside}' || '/secret.csv')", "select * from read_csv(['{data}/exports/plan.csv', '{secret}'])",
    "select * from read_csv('{data}/link/secret.csv')",         # the symlink that points out
    "select * from glob('{data}/*')", "select * from glob('{data}/link/*')", "select * from glob('{data}/**')",
    "select * from read_blob('{data}/tower.duckdb')",           # the live database's bytes
    "select * from read_blob('{data}/snapshot/tower.duckdb')",
    "select * from read_csv('{data}/exports/plan.csv')", "select * from sniff_csv('{secret}')",
    "select * from parquet_metadata('{data}/x.parquet')", "select * from read_json_auto('{secret}')",
    "select * from (select * from read_text('{secret}'))", "with f as (from read_text('{secret}')) from f",
    "explain analyze select * from read_text('{secret}')", "select (select content from read_text('{secret}'))",
    "select * from query_table('{secret}')", "select * from query('from read_text(''{secret}'')')",
    "select * from orders, lateral (select * from read_text('{secret}'))",
    "select * from orders where order_id in (from read_csv('{secret}'))",
]


@pytest.mark.parametrize("template", FILE_READS)
def test_file_reads_are_refused(world, template):
    assert_refused(world, template)


# ── server internals ───────────────────────────────────────────────────────────────────────────
DISCLOSURE = [
    "select * from duckdb_settings()", "select path from duckdb_databases()", "from duckdb_databases",
    "from duckdb_settings", "select current_setting('temp_directory')", "from pragma_database_list()",
    "from pg_catalog.pg_settings", "from pg_settings", "select getenv('HOME')", "from duckdb_extensions()",
    "from duckdb_temporary_files()", "from duckdb_memory()", "from duckdb_secrets()",
    "from pragma_database_size()", "from pragma_storage_info('orders')",
    "explain select * from duckdb_settings()", "with s as (select * from duckdb_settings()) select * from s",
    "select (select path from duckdb_databases() limit 1)", "from system.main.duckdb_settings",
    "select * from orders where market in (select value from duckdb_settings())",
]


@pytest.mark.parametrize("template", DISCLOSURE)
def test_settings_and_paths_are_not_disclosed(world, template):
    message = assert_refused(world, template)
    assert str(world["data"]) not in message


SIDE_EFFECTS = [
    "select nextval('sync_run_id')", "select setval('sync_run_id', 1)", "select currval('sync_run_id')",
    "select setseed(0.5)", "select write_log('x')", "select sleep_ms(600000)", "select pg_sleep(600)",
    "select getvariable('x')",
]


@pytest.mark.parametrize("template", SIDE_EFFECTS)
def test_functions_with_side_effects_are_refused(world, template):
    assert "side effects" in assert_refused(world, template)


# ── resources: the child is stopped, the app is not ───────────────────────────────────────────
EXHAUSTION = [
    "select length(string_agg(range::varchar, ',')) as n from range(1000000000)",
    "with recursive r(x) as (select [1] union all select x || x from r) select count(*) from r",
    "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r",
    "select len(range(10000000000)) as n", "select len(list(range)) as n from range(1000000000)",
    "select sum(a.range * b.range) from range(1000000) a, range(1000000) b",
    "select count(*) from range(100000) a, range(100000) b, range(100000) c where a.range + b.range + c.range < 0",
    "select length(repeat('x', 2000000000)) as n",
    "select repeat('x', 1000000) as wide from range(10000)",   # a capped result that is still 10 GB
    "select max(length(s)) from (select string_agg(repeat('y', 1000), '') over (order by range) s from range(10000000))",
]


@pytest.mark.parametrize("template", EXHAUSTION)
def test_resource_exhaustion_is_stopped_in_words(world, template):
    outcome = attempt(world, template, time_limit_s=3.0)
    assert isinstance(outcome, sc.QueryFailed), f"{template!r} ran to completion"
    assert peak_rss_bytes() < 2 * 2**30  # the app's process never held the query's memory


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_memory_bomb_says_which_limit_stopped_it(world):
    outcome = attempt(world, EXHAUSTION[0])
    assert isinstance(outcome, sc.QueryOutOfMemory)
    assert "more than 1GB of memory" in str(outcome)


def test_time_bomb_says_how_long_it_ran(world):
    outcome = attempt(world, EXHAUSTION[2], time_limit_s=2.0)
    assert isinstance(outcome, sc.QueryTimedOut)
    assert "longer than 2 s" in str(outcome)


def test_after_every_attempt_the_console_still_answers(world):
    result = sc.run(world["db"], "select count(*) as n from orders", params=PARAMS, snapshot_max_age_s=3600,
                    **AS_ANALYST)
    assert result.df["n"][0] == 2


# ── the second wall: the console's DuckDB refuses on its own, without the guard ───────────────
WITHOUT_THE_GUARD = [
    "delete from orders", "drop table orders", "create table evil(a int)", "copy orders to '{data}/raw.csv'",
    "copy orders to '{outside}/raw.csv'", "export database '{data}/raw'", "attach '{data}/raw.duckdb' as raw",
    "install httpfs", "set threads = 64", "set enable_external_access = true", "set lock_configuration = false",
    "select * from read_text('{secret}')", "select * from glob('{data}/link/*')", "from '{secret}'",
    "update orders set market = 'XX'", "create macro evil() as 1", "explain analyze delete from orders",
    "from request", "from sys",   # Python replacement scans of the worker's own variables and modules
]


@pytest.mark.parametrize("template", WITHOUT_THE_GUARD)
def test_the_console_database_refuses_even_if_the_guard_let_it_through(world, template):
    # Opened in this process exactly as the child opens it (its rlimits are not applied here).
    sql = template.format(data=world["data"], outside=world["outside"], secret=world["secret"])
    before = fingerprint(world["data"], world["outside"])
    con = console_worker.open_snapshot(str(world["data"] / "snapshot" / "tower.duckdb"), "256MB", 1)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(sql).fetchall()
        assert con.execute("select count(*) from orders").fetchone()[0] == 2
    finally:
        con.close()
    assert fingerprint(world["data"], world["outside"]) == before


# ── the parent survives whatever happens to the child ─────────────────────────────────────────
def console_children() -> list[int]:
    found = []
    for tid in os.listdir("/proc/self/task"):
        try:  # a thread or a child may end between listing and reading: it is then not ours to kill
            with open(f"/proc/self/task/{tid}/children") as f:
                pids = f.read().split()
            for pid in pids:
                with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                    if b"console_worker" in cmd.read():
                        found.append(int(pid))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def running_children() -> list[int]:
    """Console children other than the spare waiting for the next query (tower.sql_console)."""
    spare = sc._spare.pid if sc._spare is not None else None
    return [pid for pid in console_children() if pid != spare]


def test_a_child_killed_by_the_system_is_answered_in_words(world):
    outcome = {}

    def long_query():
        try:
            sc.run(world["db"], EXHAUSTION[2], params=PARAMS, time_limit_s=20, snapshot_max_age_s=3600,
                   **AS_ANALYST)
        except sc.QueryFailed as e:
            outcome["error"] = e

    sc._drop_spare()  # the query's child is then the only one
    worker = threading.Thread(target=long_query)
    worker.start()
    deadline = time.monotonic() + 15
    while not console_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # under way
    for pid in console_children():
        os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer does
    worker.join(30)
    assert isinstance(outcome.get("error"), sc.QueryOutOfMemory)
    assert "ended by the system (SIGKILL)" in str(outcome["error"])
    assert "app is unaffected" in str(outcome["error"])
    assert not running_children()


def test_a_child_that_does_not_stop_itself_is_killed_at_the_limit(world, monkeypatch):
    monkeypatch.setattr(sc, "STARTUP_GRACE_S", 0.0)  # the parent's deadline before the child's own timer
    started = time.monotonic()
    with pytest.raises(sc.QueryTimedOut, match="longer than 0.5 s"):
        sc.run(world["db"], EXHAUSTION[2], params=PARAMS, time_limit_s=0.5, snapshot_max_age_s=3600,
               **AS_ANALYST)
    assert time.monotonic() - started < 5
    assert not running_children()


def test_a_billion_row_result_streams_to_the_cap_instead_of_materialising(world):
    started = time.monotonic()
    result = sc.run(world["db"], "select range, range::varchar as s from range(1000000000)", params=PARAMS,
                    row_cap=1000, time_limit_s=20, snapshot_max_age_s=3600, **AS_ANALYST)
    assert result.rows == 1000 and result.truncated
    assert time.monotonic() - started < 15
    assert _rss() < world["rss"] + 300 * 2**20
