"""The DuckLake write retry (connectors.lake_writes.retrying) on a plain DuckDB connection: which
failures are retried and which are handed back at once; and the lake store's Database opening
itself again after DuckDB invalidated it. The lake itself is tested in
tests/test_ducklake.py (a real PostgreSQL catalog)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from connectors.lake_writes import retrying
from tower.db import Database


def test_a_lake_write_on_an_invalidated_database_is_raised_at_once_for_a_new_connection():
    """DuckDB invalidates its database after an internal error (seen when the catalog stopped in the
    middle of a commit): no attempt on that connection can succeed, so the retry loop hands it to the
    caller at once (which opens the lake again) instead of failing attempt after attempt until its
    deadline; a commit that merely failed is still retried."""
    cur, calls = duckdb.connect().cursor(), []

    def invalidated():
        calls.append(1)
        raise duckdb.FatalException("database has been invalidated because of a previous fatal error")

    started = time.monotonic()
    with pytest.raises(duckdb.FatalException):
        retrying(cur, invalidated, retry_s=0.2, give_up_s=30)
    assert calls == [1] and time.monotonic() - started < 1

    def fails_once():
        calls.append(2)
        if calls.count(2) == 1:
            raise duckdb.TransactionException("commit failed: the catalog is away")
        return "ok"

    assert retrying(cur, fails_once, retry_s=0.01, give_up_s=30) == ("ok", 2)


def _store_copy(folder: Path) -> Path:
    """A migrated Tower database in `folder`, closed. Every copy's catalog is named `lake`, and its
    `snapshots()` (DuckLake's, whose newest id is a lake's data version) always says 1."""
    folder.mkdir()
    db = Database(folder / "lake.duckdb")
    db.con.execute("create macro snapshots() as table select 1 as snapshot_id")
    db.close()
    return folder / "lake.duckdb"


def test_a_store_duckdb_invalidated_is_opened_again_once_for_every_thread(tmp_path):
    """The lake store's `Database` (tower.store.database) holds one in-memory DuckDB instance; once
    DuckDB invalidates it every statement fails for good, so the app server and `connectors sync
    --loop` would fail every later read and run until restarted. The next cursor opens the store
    again instead, once however many threads ask at the same time. A real invalidation here: a file
    store whose checkpoint aborts (DuckDB's own debug switch), standing in for the catalog lost in
    the middle of a commit, which cannot be caused on demand."""
    files = iter([_store_copy(tmp_path / "first"), _store_copy(tmp_path / "second")])
    opened = []

    def connect() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(next(files)))
        if not opened:  # the first instance will die at its next checkpoint
            con.execute("pragma debug_checkpoint_abort = 'before_header'")
        opened.append(con)
        return con

    db = Database.over_connection(connect(), tmp_path / "tower.duckdb", source="lake",
                                  allowed_dirs=[tmp_path], search_path="lake.main", reopen=connect)
    macros = db.df(MACROS).n[0]
    assert macros > 0
    with pytest.raises(duckdb.FatalException), db.cursor() as cur:
        cur.execute("create table scratch as select 1 as n")
        cur.execute("checkpoint")
    with pytest.raises(duckdb.FatalException):  # the instance itself is gone, not one cursor
        opened[0].execute("select 1")

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: db.df("select count(*) as n from orders").n[0], range(8)))
    assert counts == [0] * 8 and len(opened) == 2  # one new instance for all eight reads
    assert db.df(MACROS).n[0] == macros           # with the semantic layer installed again
    with pytest.raises(duckdb.PermissionException):  # and hardened again: no file outside its folder
        db.df("select * from read_csv('/etc/passwd')")


MACROS = "select count(*) as n from duckdb_functions() where function_type like '%macro%' and not internal"
