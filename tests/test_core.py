"""The core: config loading and secrets, clocks, the DuckDB store (migrations, lock, snapshot)."""
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pandas as pd
import pytest

import queries
from connectors import writes
from connectors.records import Table
from tower import config as config_mod
from tower import empty_db
from tower.clock import ManualClock, SimClock
from tower.db import Database, DatabaseLocked, layer_fingerprint

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


# ── config ─────────────────────────────────────────────────────────────────────────────────────
def write(tmp_path, text, name="tower.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_default_config_points_every_source_at_the_sandbox():
    cfg = config_mod.load(config_mod.ROOT / "tower.toml")
    assert cfg.sandbox.enabled
    assert cfg.sources, "the default config must define sources"
    for src in cfg.sources.values():
        if src.kind == "fx_rates":  # a local file (config/fx_rates.csv), not a network API
            assert (config_mod.ROOT / src.options["path"]).is_file()
            continue
        assert src.uses_sandbox
        urls = [v for v in src.options.values() if isinstance(v, str) and v.startswith("http")]
        assert urls and all(u.startswith(cfg.sandbox.url) for u in urls)


def test_secret_from_env_beats_secrets_file(tmp_path, monkeypatch):
    path = write(tmp_path, """
        [sandbox]
        enabled = false
        [sources.aftership]
        kind = "aftership"
        base_url = "https://api.aftership.com/tracking/2026-07"
    """)
    cfg = config_mod.load(path)
    object.__setattr__(cfg, "secrets_path", write(tmp_path, """
        [sources.aftership]
        api_key = "from-file"
    """, "secrets.toml"))
    assert cfg.secret("aftership", "api_key") == "from-file"
    monkeypatch.setenv("TOWER_AFTERSHIP_API_KEY", "from-env")
    assert cfg.secret("aftership", "api_key") == "from-env"
    # a real API never gets the sandbox's token
    assert cfg.secret("aftership", "other") is None


@pytest.mark.parametrize("body, message", [
    ("[sources.x]\nbase_url='http://a'\n", "needs a `kind`"),
    ("[sources.x]\nkind='nps'\napi_key='s3cret'\n", "secrets belong in"),
    ("[sources.x]\nkind='nps'\ninterval_s=0\n", "interval_s must be > 0"),
    ("[sources.x\n", "not valid TOML"),
])
def test_bad_config_fails_with_a_clear_message(tmp_path, body, message):
    with pytest.raises(config_mod.ConfigError, match=message) as err:
        config_mod.load(write(tmp_path, body))
    assert "s3cret" not in str(err.value)


@pytest.mark.parametrize("body, message", [
    ("[sandbox]\nport='eighty'\n", r"\[sandbox\] port: Input should be a valid integer"),
    ("[sandbox]\nspeed=0\n", r"\[sandbox\] speed must be > 0"),
    ("[sandbox]\nprot=8765\n", r"\[sandbox\] prot: Extra inputs are not permitted"),
    ("[database]\nsnapshot_interval_s=-5\n", r"\[database\] snapshot_interval_s must be > 0"),
    ("[sandbox]\nstart=2026-12-07T20:00:00\n", r"\[sandbox\] start: Input should have timezone info"),
    ("[sources.x]\nkind='nps'\ninterval_s='often'\n", r"\[sources.x\] interval_s: Input should be a valid number"),
])
def test_a_bad_value_names_its_table_and_field(tmp_path, body, message):
    with pytest.raises(config_mod.ConfigError, match=message):
        config_mod.load(write(tmp_path, body))


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, """
        [sandbox]
        port = 8765
        [sources.nps]
        kind = "nps"
        base_url = "{sandbox}/nps"
        interval_s = 60
    """)
    monkeypatch.setenv("TOWER_SANDBOX__PORT", "9911")
    monkeypatch.setenv("TOWER_SOURCES__NPS__INTERVAL_S", "5")
    cfg = config_mod.load(path)
    assert cfg.sandbox.port == 9911
    assert cfg.sources["nps"].interval_s == 5
    assert cfg.sources["nps"].options["base_url"] == "http://127.0.0.1:9911/nps"  # resolved after
    monkeypatch.setenv("TOWER_SANDBOX__PORT", "-1")
    with pytest.raises(config_mod.ConfigError, match=r"\[sandbox\] port must be >= 0"):
        config_mod.load(path)


def test_the_sandbox_clock_starts_where_the_config_says(tmp_path):
    """[sandbox] start pins the simulated clock's first moment (a soak at the hour its data was made,
    not the hour it was launched); unset, the clock starts now."""
    from tower import runtime

    body = f"""
        [database]
        path = "{(tmp_path / 'tower.duckdb').as_posix()}"
        snapshot = "{(tmp_path / 'snapshot.duckdb').as_posix()}"
        [sandbox]
        port = 0
        speed = 60
        history_days = 0.05
        scenarios = []
    """
    for start, expected in (("start = 2026-07-04T20:00:00-05:00\n", datetime(2026, 7, 5, 1, tzinfo=timezone.utc)),
                            ("", None)):
        cfg = config_mod.load(write(tmp_path, body.replace("speed = 60\n", "speed = 60\n" + start)))
        before = datetime.now(timezone.utc)
        rt = runtime.start(cfg, run_scheduler=False)
        try:
            began = expected or before
            # at 60x the clock has moved on by a minute per wall second since it started
            assert began <= rt.clock.now() <= began + timedelta(minutes=2 + (datetime.now(timezone.utc) - before)
                                                                .total_seconds())
        finally:
            rt.stop()


def test_missing_config_file(tmp_path):
    with pytest.raises(config_mod.ConfigError, match="not found"):
        config_mod.load(tmp_path / "nope.toml")


# ── clocks ─────────────────────────────────────────────────────────────────────────────────────
def test_sim_clock_runs_faster_than_the_wall():
    wall = [T0.timestamp()]
    clock = SimClock(T0, speed=60, wall=lambda: wall[0])
    assert clock.now() == T0
    wall[0] += 60
    assert clock.now() == T0 + timedelta(hours=1)


def test_sim_clock_can_start_at_another_moment_than_the_wall():
    wall = [T0.timestamp()]
    evening = datetime(2026, 7, 4, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    clock = SimClock(T0, speed=60, wall=lambda: wall[0], start=evening)
    assert clock.now() == evening
    wall[0] += 60
    assert clock.now() == evening + timedelta(hours=1)


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(T0)
    assert clock.now() == T0
    assert clock.advance(minutes=5) == T0 + timedelta(minutes=5)


# ── database ───────────────────────────────────────────────────────────────────────────────────
def test_migrations_apply_once(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    assert db.migrate() == []  # already applied on open
    tables = set(db.df("select table_name from information_schema.tables")["table_name"])
    assert {"shipments", "tracking_events", "stock_observations", "sync_runs", "sync_state"} <= tables
    db.close()
    db = Database(tmp_path / "t.duckdb")
    assert db.df("select count(*) n from schema_migrations")["n"][0] >= 1
    db.close()


CATALOG = {  # what a database's schema is made of, as DuckDB lists it
    "columns": "select table_name, column_name, data_type, column_default, is_nullable "
               "from information_schema.columns order by all",
    "views": "select view_name, sql from duckdb_views() where not internal order by all",
    "macros": "select function_name, macro_definition from duckdb_functions() "
              "where function_type like '%macro%' and not internal order by all",
    "constraints": "select table_name, constraint_type, constraint_text from duckdb_constraints() order by all",
    "indexes": "select table_name, index_name, sql from duckdb_indexes() order by all",
    "sequences": "select sequence_name, start_value from duckdb_sequences() order by all",
    "migrations": "select version from schema_migrations order by all",
}


def catalog(db: Database) -> dict:
    parts = {part: db.cursor().execute(sql).fetchall() for part, sql in CATALOG.items()}
    # DuckDB prints a stored EXCLUDE (…) list in no fixed order once the file is reopened
    parts["macros"] = [(name, re.sub(r"EXCLUDE \(([^)]*)\)", lambda m: ", ".join(sorted(m[1].split(", "))), sql))
                       for name, sql in parts["macros"]]
    return parts


ORDER = "insert into orders (order_id, market, created_at) values ('o1', 'US', now())"
APPLIED = "select version, applied_at from schema_migrations order by all"


def test_a_new_file_copied_from_the_empty_database_equals_one_migrated_from_scratch(tmp_path):
    scratch = Database(tmp_path / "scratch" / "t.duckdb", from_empty=False)
    copied = Database(tmp_path / "copied" / "t.duckdb")
    try:
        assert catalog(copied) == catalog(scratch)
        assert all(catalog(copied).values())
        assert copied.df("select count(*) n from orders").n[0] == 0
        with copied.cursor() as cur:  # a database of its own: writing it leaves the next new one empty
            cur.execute(ORDER)
        applied = copied.df(APPLIED)
    finally:
        scratch.close()
        copied.close()
    again = Database(tmp_path / "again" / "t.duckdb")
    assert again.df("select count(*) n from orders").n[0] == 0
    # both copies of the process's one empty database: migrated once, at the same moments
    pd.testing.assert_frame_equal(again.df(APPLIED), applied)
    again.close()


def test_a_new_file_never_replaces_one_another_process_made_meanwhile(tmp_path):
    path = tmp_path / "t.duckdb"
    other = Database(path)  # another process made the file after this one found it missing
    with other.cursor() as cur:
        cur.execute(ORDER)
    other.close()
    empty_db.copy_to(path, lambda template: Database(template, from_empty=False).close())
    db = Database(path)
    assert db.df("select count(*) n from orders").n[0] == 1
    db.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.duckdb"], "no partial copy left behind"


def kpi_definition(path, kpi: str = "return_rate") -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select macro_definition from duckdb_functions() where function_name = ?",
                           [f"kpi_{kpi}"]).fetchone()[0]
    finally:
        con.close()


def test_an_open_installs_the_semantic_layer_unless_the_file_holds_this_codes_layer_whole(tmp_path):
    path = tmp_path / "t.duckdb"
    Database(path).close()
    code = kpi_definition(path)
    assert "order_counts" in code

    def file_as(fingerprint: str | None) -> None:
        """The file as another Tower left it: its own return-rate macro, its own record."""
        con = duckdb.connect(str(path))
        con.execute("create or replace macro kpi_return_rate(window_start, as_of) as table select 42 as value")
        con.execute("delete from semantic_layer")
        if fingerprint:
            con.execute("insert into semantic_layer values (1, ?, now())", [fingerprint])
        con.close()

    # an older Tower's layer, and a layer whose install never completed: this code's is installed
    for left in ("an older layer", None):
        file_as(left)
        Database(path).close()
        assert kpi_definition(path) == code, left
    # this code's own layer, recorded whole: the open leaves the macros as they are (creating
    # them took most of an open: ~0.45 s against ~0.07 s)
    file_as(layer_fingerprint())
    Database(path).close()
    assert "42" in kpi_definition(path)


def test_stock_current_is_the_latest_observation(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    stock = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)
    with db.cursor() as cur:  # as a connector writes them (the state table follows), out of order
        for at, available in ((T0, 10), (T0 + timedelta(hours=1), 7), (T0 - timedelta(hours=1), 99)):
            writes.upsert(cur, stock, [{"sku": "A", "warehouse_id": "W", "observed_at": at, "available": available}])
    row = db.df("select * from stock_current")
    assert row["available"].tolist() == [7]


def test_close_while_other_threads_take_cursors_closes(tmp_path):
    """A stopping server closes the database while its threads may still be taking cursors: DuckDB
    refuses such a close instead of waiting (ResourceInUseException, then an aborted exit at a
    soak's stop); close() tries again, and the threads then end on DuckDB's closed-connection (or
    closed-result) error."""
    for attempt in range(10):  # the race is lost most times without the retry (27 in 30 here)
        db = Database(tmp_path / f"close{attempt}.duckdb")
        stop, seen = threading.Event(), []

        def reader() -> None:
            while not stop.is_set():
                try:
                    with db.cursor() as cur:
                        cur.execute("select 1").fetchall()
                except duckdb.Error as e:
                    seen.append(e)
                    return

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.02)
        db.close()  # raised ResourceInUseException without the retry
        stop.set()
        for t in threads:
            t.join(5)
        assert not any(t.is_alive() for t in threads)


def test_second_process_gets_a_clear_lock_message(tmp_path):
    path = tmp_path / "t.duckdb"
    db = Database(path)
    code = textwrap.dedent(f"""
        from tower.db import Database, DatabaseLocked
        try:
            Database({str(path)!r})
        except DatabaseLocked as e:
            print("LOCKED:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=config_mod.ROOT, timeout=60)
    assert "LOCKED:" in out.stdout and "another process" in out.stdout, out.stderr
    db.close()
    assert DatabaseLocked  # exported for callers


def test_snapshot_holds_every_table_view_and_kpi_macro_of_the_live_database(tmp_path):
    db = Database(tmp_path / "live.duckdb")
    with db.cursor() as cur:
        cur.execute("insert into skus (sku, name) select 'S' || i, 'n' from range(7) t(i)")
    snap = duckdb.connect(str(db.snapshot(tmp_path / "snap" / "tower.duckdb")), read_only=True)
    catalog = ("select table_name, estimated_size from duckdb_tables() where schema_name = 'main' "
               "and database_name = current_database() order by 1")
    views = "select view_name from duckdb_views() where not internal and database_name = current_database()"
    assert snap.execute(catalog).fetchall() == db.df(catalog).apply(tuple, axis=1).tolist()
    assert sorted(snap.execute(views).fetchall()) == sorted(db.df(views).apply(tuple, axis=1).tolist())
    assert snap.execute("select count(*) from stock_current").fetchone() == (0,)
    for kpi in queries.kpi_names():  # an analyst calls the semantic layer on the snapshot
        snap.execute(f"select * from kpi_{kpi}('-infinity'::timestamptz, now())").fetchall()
    db.close()


def test_snapshot_is_a_consistent_read_only_copy_readable_while_the_owner_writes(tmp_path):
    db = Database(tmp_path / "live.duckdb")
    with db.cursor() as cur:
        cur.execute("insert into skus (sku, name) select 'S' || i, 'n' from range(100) t(i)")
    snap = db.snapshot(tmp_path / "snap" / "tower.duckdb")
    with db.cursor() as cur:  # the owner keeps writing after publishing
        cur.execute("insert into skus (sku, name) values ('late', 'n')")
    code = f"import duckdb; c = duckdb.connect({str(snap)!r}, read_only=True); " \
           "print(c.execute('select count(*) from skus').fetchone()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "100", out.stderr
    # republishing replaces the file atomically; no temp files are left behind
    db.snapshot(snap)
    assert duckdb.connect(str(snap), read_only=True).execute("select count(*) from skus").fetchone()[0] == 101
    assert [p.name for p in snap.parent.iterdir()] == ["tower.duckdb"]
    db.close()
