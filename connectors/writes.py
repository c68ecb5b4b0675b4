"""Bulk writes: a batch of rows → an Arrow table → registered in DuckDB → deduplicated on the key
→ `insert … by name … on conflict` (statements from queries.dynamic), per the table's write mode."""
from __future__ import annotations

import threading

import duckdb
import pyarrow as pa

from connectors import derived
from connectors.records import Table, sql
from queries import dynamic


def to_arrow(rows: list[dict]) -> pa.Table:
    """Rows (dicts, keys may vary) → an Arrow table; a column Arrow cannot type (mixed Python
    types) goes as text and is cast by DuckDB to the target type."""
    columns: dict[str, None] = {}
    for row in rows:
        for k in row:
            columns.setdefault(k, None)
    arrays = {}
    for col in columns:
        values = [row.get(col) for row in rows]
        try:
            arrays[col] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[col] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


def upsert(cur: duckdb.DuckDBPyConnection, table: Table, rows: list[dict] | pa.Table) -> int:
    """Write a batch to `table` in the caller's transaction; returns rows inserted or changed.

    The batch is deduplicated on the primary key first (newest `version` wins; ties broken by every
    column, so any permutation or duplication of a batch gives the same result). Merge tables update
    only the columns the batch carries, only when something differs and the stored row is not newer;
    append tables keep the row already stored."""
    staged = rows if isinstance(rows, pa.Table) else to_arrow(rows)
    if staged.num_rows == 0:
        return 0
    types = dict(cur.execute(sql("table_columns"), {"table": table.name}).fetchall())
    cols = list(staged.column_names)
    unknown = [c for c in cols if c not in types]
    missing_key = [k for k in table.primary_key if k not in cols]
    if unknown or missing_key:
        raise ValueError(f"{table.name}: unknown columns {unknown} / missing key {missing_key}")
    stage = f"_stage_{table.name}_{threading.get_ident()}"
    cur.register(stage, staged)
    try:
        version = table.version if table.version in cols else None
        statements = dynamic.upsert(table.name, stage, cols, types, table.primary_key, version, table.write)
        tokens = derived.before(cur, table.name, stage)
        written = int(cur.execute(statements.insert).fetchone()[0])
        if statements.delete_missing:
            written += int(cur.execute(statements.delete_missing).fetchone()[0])
        derived.after(cur, table.name, stage, tokens)  # rollups move in the same transaction
        return written
    finally:
        cur.unregister(stage)


