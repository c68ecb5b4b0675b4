"""Writes to the DuckLake store (tower.store): one sync's batches in one lake transaction, merged on
each table's natural key, so a sync lands whole or not at all. If the catalog goes away mid-sync
the commit fails, DuckDB rolls back, and `write_sync` retries the same batches when it returns:
nothing partial, nothing lost, nothing doubled (the MERGE is idempotent on the key)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb
import pyarrow as pa

from connectors.records import Table
from connectors.writes import to_arrow
from queries import lake

log = logging.getLogger("connectors.lake")


# Errors no retry can fix (a bad value, a statement that does not bind): raised at once. Anything
# else from DuckDB (the catalog away, a failed commit, a write-write conflict with another host) is
# retried until the deadline.
PERMANENT = (duckdb.ConversionException, duckdb.BinderException, duckdb.ParserException)
# DuckDB invalidated its database (an internal error, e.g. a commit cut short by the catalog's stop):
# nothing on this connection can succeed again, so it is raised at once for the caller to open a new
# one (store.open_lake) and write the same batches there, instead of failing attempt after attempt.
INVALIDATED = duckdb.FatalException
T = TypeVar("T")


def merge(cur: duckdb.DuckDBPyConnection, table: Table, rows: list[dict] | pa.Table) -> int:
    """Merge one batch into lake.<table> inside the caller's transaction; returns the rows inserted,
    changed or (for `replace` tables, whose batch is the whole table) deleted."""
    staged = rows if isinstance(rows, pa.Table) else to_arrow(rows)
    if staged.num_rows == 0:
        return 0
    types = dict(cur.execute(lake.table_columns(), {"table": table.name}).fetchall())
    cols = list(staged.column_names)
    unknown = [c for c in cols if c not in types]
    if unknown or any(k not in cols for k in table.primary_key):
        raise ValueError(f"{table.name}: unknown columns {unknown} or a missing key column")
    stage = f"_stage_{table.name}_{threading.get_ident()}"
    cur.register(stage, staged)
    try:
        version = table.version if table.version in cols else None
        written = int(cur.execute(lake.merge(table.name, stage, cols, types, table.primary_key, version,
                                             table.write)).fetchone()[0])
        if table.write == "replace":
            written += int(cur.execute(lake.delete_missing(table.name, stage, types, table.primary_key)).fetchone()[0])
        return written
    finally:
        cur.unregister(stage)


def merge_all(cur: duckdb.DuckDBPyConnection, batches: list[tuple[Table, list[dict] | pa.Table]]) -> list[int]:
    """Merge every batch inside the caller's transaction, after taking the lake's write lock: two
    transactions that both merge rows conflict at commit (the later one rolls back and is retried),
    which is what keeps two workers from inserting the same new key twice (queries/lake.py)."""
    cur.execute(lake.clear_write_lock())
    cur.execute(lake.insert_write_lock())
    return [merge(cur, table, rows) for table, rows in batches]


def retrying(cur, work: Callable[[], T], retry_s: float = 0.5, give_up_s: float = 300.0) -> tuple[T, int]:
    """Run `work` in one transaction on `cur`, again while the catalog is away or another writer
    conflicts; (its result, the attempts it took). A failed commit has rolled back already, and the
    same connection commits again once the catalog is back (docs/ducklake.md)."""
    deadline = time.monotonic() + give_up_s
    attempt = 0
    while True:
        attempt += 1
        try:
            cur.begin()
            result = work()
            cur.commit()
            return result, attempt
        except duckdb.Error as e:
            try:
                cur.rollback()
            except duckdb.Error:
                pass  # the failed commit already rolled back
            if isinstance(e, (PERMANENT, INVALIDATED)) or time.monotonic() > deadline:
                raise
            log.warning("lake write failed (attempt %d), retrying: %s: %s", attempt, type(e).__name__,
                        str(e).splitlines()[0][:300])
            time.sleep(retry_s)
        except BaseException:
            cur.rollback()
            raise


def write_sync(con: duckdb.DuckDBPyConnection, batches: list[tuple[Table, list[dict]]],
               retry_s: float = 0.5, give_up_s: float = 300.0) -> int:
    """Commit every batch of one sync in one transaction, retrying while the catalog is away.
    Returns the number of attempts it took."""
    cur = con.cursor()
    try:
        _, attempts = retrying(cur, lambda: merge_all(cur, batches), retry_s, give_up_s)
        return attempts
    finally:
        cur.close()
