"""The analyst's SQL console: the guard refuses every way of changing the data or reading files (and
runs nothing when it refuses), queries run on the published snapshot in a child process, runaway
queries are stopped without hurting anyone else, results are capped, the page works, and the published
snapshot opens read-only from another process while the app keeps writing. The adversarial escape
suite is tests/test_console_escapes.py."""
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from tests.test_aside import alive
from tower import sql_console as sc
from tower.auth.policy import Identity
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent
ANALYST = Identity("ana-sub", "ana", frozenset({"analyst"}))
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
ORDERS = [  # order_id, merchant, channel, market, created_at offset (h)
    ("o1", "green-living", "web", "US", 1),
    ("o2", "green-living", "tiktok", "US", 2),
    ("o3", "nordic-nest", "web", "DE", 3),
]


def populate(db: Database) -> None:
    cur = db.cursor()
    for order_id, merchant, channel, market, hours in ORDERS:
        cur.execute(
            "insert into orders (order_id, merchant_id, channel, market, created_at, total_price) "
            "values (?, ?, ?, ?, ?, 10)",
            [order_id, merchant, channel, market, T0 + timedelta(hours=hours)],
        )
    cur.execute("insert into merchants (merchant_id, name) values ('green-living', 'Green Living')")


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def db(data_dir):
    database = Database(data_dir / "tower.duckdb")
    populate(database)
    database.snapshot(data_dir / "snapshot" / "tower.duckdb")  # the app publishes one at start
    yield database
    database.close()


@pytest.fixture
def outside(tmp_path):
    """A file with a secret outside the data folder: the console must never read it."""
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("token\nTOP-SECRET-42\n")
    return secret


def run(db, sql, data_dir, **kw):
    kw.setdefault("params", {"market": None, "start": T0, "end": T0 + timedelta(days=1), "now": T0})
    kw.setdefault("snapshot_max_age_s", 3600)  # the fixture published it; no refresh mid-test
    kw.setdefault("who", ANALYST)
    kw.setdefault("per_minute", 0)            # the rate limit has its own test
    return sc.run(db, sql, data_dir=data_dir, **kw)


def fingerprint(db, data_dir):
    """Everything a refused statement could have changed."""
    cur = db.cursor()
    return {
        "tables": cur.execute("select table_name from duckdb_tables() order by 1").fetchall(),
        "orders": cur.execute("select * from orders order by order_id").fetchall(),
        "merchants": cur.execute("select * from merchants order by 1").fetchall(),
        "databases": cur.execute("select database_name from duckdb_databases() order by 1").fetchall(),
        # the audit trail's sequence moves with every query (each one is audited, refused or not)
        "sequences": cur.execute("select sequence_name, last_value from duckdb_sequences() "
                                 "where sequence_name <> 'audit_seq'").fetchall(),
        "threads": cur.execute("select current_setting('threads')").fetchone(),
        "files": sorted(p.name for p in data_dir.rglob("*")),
    }


def assert_refused(db, data_dir, sql, *words):
    before = fingerprint(db, data_dir)
    with pytest.raises(sc.Refused) as e:
        run(db, sql, data_dir)
    message = str(e.value)
    for word in words:
        assert word.lower() in message.lower(), message
    assert "Nothing was run" in message or "Parser Error" in message
    assert "Traceback" not in message
    assert fingerprint(db, data_dir) == before
    return message


# ── refusals: writes and settings ──────────────────────────────────────────────────────────────
def test_drop_is_refused_and_the_table_survives(db, data_dir):
    assert_refused(db, data_dir, "drop table orders", "DROP")
    assert run(db, "select count(*) as n from orders", data_dir).df["n"][0] == 3


def test_delete_is_refused(db, data_dir):
    assert_refused(db, data_dir, "delete from orders", "DELETE")


def test_insert_is_refused(db, data_dir):
    assert_refused(db, data_dir, "insert into orders (order_id) values ('evil')", "INSERT")


def test_update_is_refused(db, data_dir):
    assert_refused(db, data_dir, "update orders set channel = 'evil'", "UPDATE")


def test_create_is_refused(db, data_dir):
    assert_refused(db, data_dir, "create table evil as select * from orders", "CREATE")


def test_write_inside_with_is_refused(db, data_dir):
    assert_refused(db, data_dir, "with gone as (delete from orders returning *) select * from gone",
                   "DELETE")


def test_explain_analyze_of_a_write_is_refused(db, data_dir):
    # EXPLAIN ANALYZE executes its statement
    assert_refused(db, data_dir, "explain analyze delete from orders", "EXPLAIN")


def test_copy_to_is_refused_and_no_file_is_written(db, data_dir):
    target = data_dir / "dump.csv"
    assert_refused(db, data_dir, f"copy orders to '{target}'", "COPY")
    assert not target.exists()


def test_attach_is_refused(db, data_dir):
    other = data_dir / "other.duckdb"
    assert_refused(db, data_dir, f"attach '{other}' as other", "ATTACH")
    assert not other.exists()


@pytest.mark.parametrize("sql", ["install httpfs", "load parquet"])
def test_install_and_load_are_refused(db, data_dir, sql):
    assert_refused(db, data_dir, sql, "INSTALL/LOAD")


@pytest.mark.parametrize("sql", ["set threads = 1", "reset threads", "pragma threads = 1",
                                 "pragma enable_profiling", "set global memory_limit = '1MB'"])
def test_settings_changes_are_refused(db, data_dir, sql):
    assert_refused(db, data_dir, sql)


def test_a_write_smuggled_after_a_read_runs_nothing(db, data_dir):
    message = assert_refused(db, data_dir, "select count(*) from orders; drop table orders", "DROP")
    assert "Statement 2 of 2" in message


def test_sequence_side_effects_are_refused(db, data_dir):
    assert_refused(db, data_dir, "select nextval('sync_run_id')", "nextval")


@pytest.mark.parametrize("sql", ["from checkpoint()", "from query('drop table orders')",
                                 "from query_table('orders')", "from duckdb_secrets()"])
def test_table_functions_off_the_list_are_refused(db, data_dir, sql):
    assert_refused(db, data_dir, sql, "not allowed")


# ── refusals: files outside the data folder ────────────────────────────────────────────────────
@pytest.mark.parametrize("template", [
    "select * from read_text('/etc/passwd')",
    "select * from read_csv('{secret}')",
    "select * from read_blob('{secret}')",
    "select * from '{secret}'",                          # replacement scan of a file path
    "select * from glob('{outside_dir}/*')",
    "select * from read_csv('{data_dir}/../outside/secret.csv')",
    "select * from read_csv('file://{secret}')",
    "select * from read_csv('~/secret.csv')",
    "select * from read_csv(['{data_dir}/ok.csv', '{secret}'])",
    "select * from read_csv('{outside_dir}' || '/secret.csv')",  # computed: can't be checked
    "describe '{secret}'",
    "select * from read_csv('{data_dir}/link/secret.csv')",  # a symlink out of the data folder
])
def test_reading_outside_the_data_folder_is_refused(db, data_dir, outside, template):
    (data_dir / "ok.csv").write_text("a\n1\n")
    (data_dir / "link").symlink_to(outside.parent)
    sql = template.format(secret=outside, outside_dir=outside.parent, data_dir=data_dir)
    message = assert_refused(db, data_dir, sql)
    assert "TOP-SECRET-42" not in message


def test_the_console_reads_no_files_even_inside_the_data_folder(db, data_dir):
    # Files there are the database, its snapshot and exports of the same tables: nothing to add, and
    # a path check could be walked round by a symlink or a glob, so file access is simply off.
    (data_dir / "exports").mkdir()
    (data_dir / "exports" / "plan.csv").write_text("sku,units\nA,5\nB,7\n")
    message = assert_refused(db, data_dir, f"select sum(units) from read_csv('{data_dir}/exports/*.csv')")
    assert "reads no files" in message


def test_the_console_reads_the_snapshot_not_the_live_connection(db, data_dir):
    db.cursor().execute("insert into orders (order_id, market) values ('o4', 'US')")
    sql = "select count(*) as n from orders"
    assert run(db, sql, data_dir).df["n"][0] == 3           # the snapshot published before the insert
    assert run(db, sql, data_dir, snapshot_max_age_s=0).df["n"][0] == 4   # republished when stale


# ── what runs ──────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("sql, column", [
    ("describe orders", "column_name"),
    ("show tables", "name"),
    ("summarize orders", "column_name"),
    ("explain select * from orders", "explain_key"),
    ("from pragma_table_info('orders')", "name"),
])
def test_read_only_inspection_statements_run(db, data_dir, sql, column):
    assert column in run(db, sql, data_dir).df.columns


def test_filters_are_bound_as_parameters(db, data_dir):
    sql = "select count(*) as n from orders where ($market is null or market = $market)"
    assert run(db, sql, data_dir, params={"market": "DE"}).df["n"][0] == 1
    assert run(db, sql, data_dir, params={"market": None}).df["n"][0] == 3
    with pytest.raises(sc.Refused, match=r"\$warehouse"):
        run(db, "select $warehouse", data_dir, params={"market": None})


def test_a_result_has_the_values_and_types_duckdb_itself_gives(db, data_dir):
    """The child hands its result over as Arrow; the analyst still gets what DuckDB's own frame
    holds: numbers as numbers (DECIMAL and HUGEINT as floats), intervals as durations, dates and
    times as timestamps, repeated names numbered as DuckDB numbers them."""
    sql = ("select 1 as a, 2 as a, 2.50::decimal(10, 2) as price, 12::hugeint as big, "
           "interval '1 month 3 days 2 hours' as wait, date '2026-11-20' as day, "
           "timestamp '2026-11-20 08:00:00' as at, map {'x': 1} as m, [1, 2] as l, null as nothing, "
           "count(*) over () as orders from orders limit 1")
    shown = run(db, sql, data_dir).df
    with duckdb.connect() as con:
        con.execute("create table orders as select 1 as order_id")
        own = con.sql(sql).df()
    assert list(shown.columns) == list(own.columns) == ["a", "a_1", "price", "big", "wait", "day", "at", "m", "l",
                                                        "nothing", "orders"]
    for column in own.columns:
        assert shown[column].dtype.kind == own[column].dtype.kind, column
    assert shown.drop(columns=["l", "orders"]).iloc[0].to_dict() == own.drop(columns=["l", "orders"]).iloc[0].to_dict()
    assert list(shown["l"][0]) == [1, 2] and shown["orders"][0] == 3


def test_duckdb_errors_show_duckdbs_message(db, data_dir):
    with pytest.raises(sc.QueryFailed) as e:
        run(db, "select * from no_such_table", data_dir)
    assert "Catalog Error" in str(e.value) and "no_such_table" in str(e.value)
    assert "Traceback" not in str(e.value)


def test_every_example_query_passes_the_guard_and_runs(db, data_dir):
    names = queries.names("examples")
    assert len(names) >= 5
    params = {"start": T0, "end": T0 + timedelta(days=1), "now": T0 + timedelta(days=1),
              "merchant": None, "channel": None, "market": None, "warehouse": None, "carrier": None}
    for name in names:
        assert queries.header(name), f"{name} needs a header comment"
        result = sc.run(db, queries.load(name), data_dir=data_dir, params=params, who=ANALYST,
                        per_minute=0)
        assert result.df.columns.size, name
    per_day = sc.run(db, queries.load("examples/orders_per_day"), data_dir=data_dir, params=params,
                     who=ANALYST, per_minute=0)
    assert per_day.df["orders"].sum() == 3


def test_results_are_capped_with_a_note(db, data_dir):
    capped = run(db, "select * from range(25000)", data_dir, row_cap=1000)
    assert capped.rows == 1000 and capped.truncated
    whole = run(db, "select * from range(1000)", data_dir, row_cap=1000)
    assert whole.rows == 1000 and not whole.truncated


LONG_QUERY = "select sum(a.range * b.range) from range(1000000) a, range(1000000) b"


def test_a_runaway_query_is_interrupted_and_the_connection_keeps_answering(db, data_dir):
    started = time.perf_counter()
    with pytest.raises(sc.QueryTimedOut, match="longer than 0.5 s"):
        run(db, LONG_QUERY, data_dir, time_limit_s=0.5)
    assert time.perf_counter() - started < 10
    assert run(db, "select count(*) as n from orders", data_dir).df["n"][0] == 3
    assert db.df("select count(*) as n from orders")["n"][0] == 3


def test_each_query_gets_a_child_of_its_own_started_before_it_was_asked(db, data_dir):
    """The child's start (Python, DuckDB, pandas: about a second) happens after the previous query,
    not while the analyst waits; the spare answers exactly one query and exits."""
    sc._drop_spare()
    assert run(db, "select count(*) as n from orders", data_dir).df["n"][0] == 3
    spare = sc._spare
    assert spare is not None and spare.poll() is None, "a child is ready for the next query"
    assert run(db, "select count(*) as n from orders where market = 'US'", data_dir).df["n"][0] == 2
    assert spare.wait(10) == 0, "the spare answered the second query and ended"
    assert sc._spare is not None and sc._spare.pid != spare.pid  # the third query's own
    with pytest.raises(sc.QueryFailed):
        run(db, "select no_such_column from orders", data_dir)
    assert run(db, "select count(*) as n from orders", data_dir).df["n"][0] == 3  # a failure taints nothing


@pytest.mark.parametrize("ends", ["exits", "is killed"])
def test_the_spare_child_ends_with_the_app(db, data_dir, ends):
    """An app that exits stops its spare; one killed outright leaves it end-of-input, and it exits."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tower import sql_console as sc
        from tower.auth.policy import Identity
        from tower.db import Database
        db = Database({str(data_dir / "tower.duckdb")!r})
        sc.run(db, "select 1", who=Identity("a", "a", frozenset({{"analyst"}})), per_minute=0,
               snapshot_max_age_s=3600)
        print(sc._spare.pid, flush=True)
        db.close()
        if {ends == "is killed"!r}:
            os._exit(0)
    """)
    db.close()  # the script opens the file itself
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid), "the spare outlived the app"



def test_other_sessions_are_served_while_a_long_query_runs(db, data_dir):
    outcome = {}

    def long_running():
        try:  # long enough for a short query whose child starts cold (the long one took the spare)
            run(db, LONG_QUERY, data_dir, time_limit_s=8)
        except sc.QueryTimedOut as e:
            outcome["long"] = e

    worker = threading.Thread(target=long_running)
    worker.start()
    time.sleep(0.3)  # the long query is under way
    short = run(db, "select count(*) as n from orders", data_dir)
    assert short.df["n"][0] == 3
    assert worker.is_alive(), "the short query had to wait for the long one"
    worker.join(30)
    assert isinstance(outcome.get("long"), sc.QueryTimedOut)


def test_only_analysts_and_admins_run_queries_and_each_one_is_audited(db, data_dir):
    for roles in ({"viewer"}, {"operator"}, {"approver"}, set()):
        who = Identity(f"u-{'-'.join(roles)}", "someone", frozenset(roles))
        with pytest.raises(PermissionError, match="needs the analyst or admin role"):
            run(db, "select 1", data_dir, who=who)
    with pytest.raises(PermissionError, match="not signed in"):
        run(db, "select 1", data_dir, who=None)
    assert db.df("select count(*) as n from audit_log")["n"][0] == 0   # refused: not run, not logged
    run(db, "select 42 as answer", data_dir, who=ANALYST, now=T0)
    row = db.df("select actor, action, happened_at, detail from audit_log").iloc[0]
    assert (row.actor, row.action) == ("ana-sub", "console.query")
    assert row.happened_at == T0 and "select 42 as answer" in row.detail


# ── hypothesis: a mix with any forbidden part never executes ───────────────────────────────────
ALLOWED = ["select count(*) from orders", "select 1", "describe orders", "show tables",
           "summarize merchants", "explain select * from orders", "from range(3)",
           "with t as (select * from orders) select channel, count(*) from t group by all"]
FORBIDDEN = ["insert into orders (order_id) values ('hypo')", "delete from orders",
             "update orders set channel = 'hypo'", "drop table merchants", "create table hypo(a int)",
             "copy orders to '{data}/hypo.csv'", "attach '{data}/hypo.duckdb' as hypo",
             "set threads = 1", "with d as (delete from orders returning *) select * from d",
             "select nextval('sync_run_id')", "from read_text('/etc/hostname')",
             "explain analyze delete from orders", "create sequence hypo_seq", "checkpoint",
             "alter table orders add column hypo int", "insert into merchants select * from merchants"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    data = tmp_path_factory.mktemp("hypo") / "data"
    data.mkdir()
    database = Database(data / "tower.duckdb")
    populate(database)
    database.snapshot(data / "snapshot" / "tower.duckdb")
    yield database, data
    database.close()


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.sampled_from(ALLOWED), max_size=3),
       writes=st.lists(st.sampled_from(FORBIDDEN), min_size=1, max_size=2),
       order=st.randoms(use_true_random=False))
def test_any_forbidden_part_stops_the_whole_script(shared, reads, writes, order):
    database, data = shared
    statements = reads + [w.format(data=data) for w in writes]
    order.shuffle(statements)
    before = fingerprint(database, data)
    with pytest.raises(sc.Refused):
        sc.run(database, ";\n".join(statements), params={}, snapshot_max_age_s=3600, who=ANALYST,
               per_minute=0)
    assert fingerprint(database, data) == before


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.sampled_from(ALLOWED), min_size=1, max_size=3))
def test_scripts_of_reads_only_run(shared, reads):
    database, data = shared
    assert sc.run(database, "; ".join(reads), params={}, snapshot_max_age_s=3600, who=ANALYST,
                  per_minute=0).statements == len(reads)


# ── hardening the live connection ──────────────────────────────────────────────────────────────
def test_hardened_database_still_ingests_and_snapshots(data_dir, outside):
    db = Database(data_dir / "tower.duckdb")  # hardened at open
    try:
        cur = db.cursor()
        assert cur.execute("select current_setting('TimeZone')").fetchall() == [("UTC",)]
        # a connector's bulk upsert from a registered DataFrame
        staged = pd.DataFrame({"order_id": ["b1", "b2"], "market": ["US", "FR"],
                               "created_at": [T0, T0 + timedelta(hours=1)]})
        cur.register("staged_orders", staged)
        cur.execute("insert into orders by name select * from staged_orders")
        assert db.df("select count(*) as n from orders")["n"][0] == 2
        # the snapshot ATTACHes a file under the data folder
        snap = db.snapshot(data_dir / "snapshot" / "tower.duckdb")
        check = duckdb.connect(str(snap), read_only=True)
        assert check.execute("select count(*) from orders").fetchone()[0] == 2
        check.close()
        # DuckDB itself now refuses what the guard refuses, even without the guard
        with pytest.raises(duckdb.PermissionException):
            cur.execute(f"select * from read_text('{outside}')")
        with pytest.raises(duckdb.Error):
            cur.execute("set enable_external_access = true")
        with pytest.raises(duckdb.Error):
            cur.execute(f"attach '{outside.parent}/x.duckdb' as x")
        assert not (outside.parent / "x.duckdb").exists()
        # and the console runs on it as before
        assert sc.run(db, "select count(*) as n from orders", data_dir=data_dir, who=ANALYST).df["n"][0] == 2
    finally:
        db.close()


# ── the published snapshot, read from another process ──────────────────────────────────────────
READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select count(*) from orders").fetchone()[0], flush=True)
    sys.stdin.readline()   # hold the snapshot open while the app replaces it
    print(con.execute("select count(*) from orders").fetchone()[0], flush=True)
""")


def test_snapshot_opens_read_only_in_another_process_while_the_app_writes(db, data_dir):
    snap = db.snapshot(data_dir / "snapshot" / "tower.duckdb")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snap)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "3"
        # the owning process keeps writing and republishes while the reader has the file open
        db.cursor().execute("insert into orders (order_id, market) values ('o4', 'US')")
        db.snapshot(snap)
        assert db.df("select count(*) as n from orders")["n"][0] == 4
        out, err = reader.communicate("\n", timeout=30)
        assert reader.returncode == 0, err
        assert out.strip() == "3"  # its open snapshot stayed consistent
    finally:
        if reader.poll() is None:
            reader.kill()
    fresh = subprocess.run([sys.executable, "-c", READER, str(snap)], check=False, input="\n",
                           capture_output=True, text=True, timeout=30)
    assert fresh.stdout.split() == ["4", "4"], fresh.stderr  # a new connection sees the new one


# ── the page ───────────────────────────────────────────────────────────────────────────────────
@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A temp tower.toml (no sandbox, no sources) pointing at a small populated database."""
    import streamlit

    data = tmp_path / "data"
    database = Database(data / "tower.duckdb")
    populate(database)
    database.close()
    config = tmp_path / "tower.toml"
    config.write_text(textwrap.dedent(f"""
        [database]
        path = "{data / 'tower.duckdb'}"
        snapshot = "{data / 'snapshot' / 'tower.duckdb'}"
        [sandbox]
        enabled = false
    """))
    monkeypatch.setenv("TOWER_CONFIG", str(config))
    streamlit.cache_resource.clear()
    streamlit.cache_data.clear()
    yield data
    from tower import runtime

    runtime.get().stop()
    streamlit.cache_resource.clear()
    streamlit.cache_data.clear()


def page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "sql_console.py"), default_timeout=60)
    return at.run()


def run_in_page(at, sql):
    at.text_area(key="sql_console.sql").input(sql)
    return at.button(key="sql_console.run").click().run()


def test_page_runs_a_select_and_shows_the_row_count(app_db):
    at = page()
    assert not at.exception
    assert "orders" in at.selectbox(key="sql_console.schema_table").options[0] + " ".join(
        at.selectbox(key="sql_console.schema_table").options)
    at = run_in_page(at, "select order_id, market from orders order by order_id")
    assert not at.exception
    assert not at.error
    assert any(m.value.startswith("**3 rows") for m in at.markdown)
    shown = at.dataframe[0].value
    assert list(shown["order_id"]) == ["o1", "o2", "o3"]


def test_page_offers_downloads_and_a_chart_of_the_result(app_db):
    at = run_in_page(page(), "select market, count(*) as orders from orders group by all order by 1")
    assert not at.exception
    assert len(at.get("download_button")) == 2
    at = at.selectbox(key="sql_console.chart_kind").select("bar").run()
    assert not at.exception
    figure = at.get("plotly_chart")[0].proto.spec
    assert '"DE"' in figure and '"US"' in figure


def test_page_refuses_drop_table(app_db):
    at = run_in_page(page(), "DROP TABLE orders")
    assert not at.exception
    assert at.error and "Refused" in at.error[0].value and "DROP" in at.error[0].value
    check = run_in_page(at, "select count(*) as n from orders")
    assert check.dataframe[0].value["n"][0] == 3


def test_page_loads_an_example_and_shows_column_meanings(app_db):
    at = page()
    at.selectbox(key="sql_console.example").select("examples/orders_per_day").run()
    at = at.button(key="sql_console.load").click().run()
    assert "from orders" in at.text_area(key="sql_console.sql").value
    at = at.selectbox(key="sql_console.schema_table").select("orders").run()
    columns = at.dataframe[-1].value
    assert "destination country (ISO)" in set(columns.iloc[:, 2])


def test_the_shared_table_macros_are_readable_from_the_console(db, data_dir):
    result = run(db, "select count(*) as n from stock_health_at(now(), null)", data_dir)
    assert result.statements == 1
    assert_refused(db, data_dir, "select * from stock_health_at(now(), null), read_text('/etc/passwd')")


@pytest.mark.parametrize("sql, shown", [
    ("explain (format json) select * from orders", None),                       # runs: a plan
    ("/* x */ EXPLAIN /* y */ ANALYZE delete from orders", "Refused"),          # in words, not "unavailable"
    ("select length(string_agg(range::varchar, ',')) from range(1000000000)", "Stopped"),
    ("select * from duckdb_settings()", "Refused"),
])
def test_page_answers_every_outcome_in_words(app_db, sql, shown):
    at = run_in_page(page(), sql)
    assert not at.exception
    if shown is None:
        assert not at.error and at.dataframe[0].value.shape[0] >= 1
    else:
        assert at.error and at.error[0].value.startswith(shown), at.error[0].value
        assert "not available" not in at.error[0].value
    assert run_in_page(at, "select count(*) as n from orders").dataframe[0].value["n"][0] == 3


def test_a_misconfigured_memory_limit_is_said_in_words(db, data_dir):
    with pytest.raises(sc.QueryFailed, match=r"\[console\] memory_limit"):
        run(db, "select 1", data_dir, memory_limit="lots")
