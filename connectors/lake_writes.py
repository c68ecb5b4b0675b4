"""Writes to the DuckLake store (tower.store): one sync's batches in one lake transaction, merged on
each table's natural key, so a sync lands whole or not at all. If the catalog goes away mid-sync
the commit fails, DuckDB rolls back, and `write_sync` retries the same batches when it returns:
nothing partial, nothing lost, nothing doubled (the MERGE is idempotent on the key)."""
from __future__ import annotations

import logging
import threading
import time

import duckdb
import pyarrow as pa

from connectors.records import Table
from connectors.writes import to_arrow
from queries import lake

log = logging.getLogger("connectors.lake")


def merge(cur: duckdb.DuckDBPyConnection, table: Table, rows: list[dict] | pa.Table) -> None:
    """Merge one batch into lake.<table> inside the caller's transaction."""
    staged = rows if isinstance(rows, pa.Table) else to_arrow(rows)
    if staged.num_rows == 0:
        return
    types = dict(cur.execute(lake.table_columns(), {"table": table.name}).fetchall())
    cols = list(staged.column_names)
    unknown = [c for c in cols if c not in types]
    if unknown or any(k not in cols for k in table.primary_key):
        raise ValueError(f"{table.name}: unknown columns {unknown} or a missing key column")
    stage = f"_stage_{table.name}_{threading.get_ident()}"
    cur.register(stage, staged)
    try:
        version = table.version if table.version in cols else None
        cur.execute(lake.merge(table.name, stage, cols, types, table.primary_key, version, table.write))
    finally:
        cur.unregister(stage)


def write_sync(con: duckdb.DuckDBPyConnection, batches: list[tuple[Table, list[dict]]],
               retry_s: float = 0.5, give_up_s: float = 300.0) -> int:
    """Commit every batch of one sync in one transaction, retrying while the catalog is away.
    Returns the number of attempts it took."""
    deadline = time.monotonic() + give_up_s
    attempt = 0
    while True:
        attempt += 1
        cur = con.cursor()
        try:
            cur.begin()
            for table, rows in batches:
                merge(cur, table, rows)
            cur.commit()
            return attempt
        except duckdb.Error as e:
            try:
                cur.rollback()
            except duckdb.Error:
                pass  # the failed commit already rolled back
            if time.monotonic() > deadline:
                raise
            log.warning("lake write failed (attempt %d), retrying: %s: %s", attempt, type(e).__name__, str(e).splitlines()[0][:300])
            time.sleep(retry_s)
        finally:
            cur.close()
