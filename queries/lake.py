"""Statements for the DuckLake store (tower.store). DuckDB 1.5.5 does not bind parameters in LOAD or
ATTACH, so the extension path, the catalog DSN and the data path go in as quoted string literals
(single quotes doubled); table and column names come only from code and are quoted identifiers.

DuckLake has no PRIMARY KEY/UNIQUE, so a lake write is a MERGE on the table's natural key of a
batch deduplicated on that key (newest `version` wins), never INSERT … ON CONFLICT."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from queries.dynamic import quote


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def load_extension(path: str) -> str:
    return f"load {literal(path)}"


def attach(catalog_dsn: str, data_path: str) -> str:
    """Attach the lake as `lake` (catalog: `postgres:<dsn>`, or a local DuckDB/SQLite file)."""
    return f"attach {literal('ducklake:' + catalog_dsn)} as lake (data_path {literal(data_path)})"


def is_attached() -> str:
    return "select count(*) > 0 from duckdb_databases() where database_name = 'lake'"


def table_shape(table: str) -> str:
    """Create the lake table with the columns and types of the migrated in-memory one (no keys)."""
    return (f"create table if not exists lake.{quote(table)} as "
            f"select * from memory.main.{quote(table)} limit 0")


def schema_tables() -> str:
    return ("select table_name from duckdb_tables() "
            "where database_name = 'memory' and schema_name = 'main' and table_name <> 'schema_migrations' "
            "order by table_name")


def views(database: str) -> str:
    """(name, CREATE VIEW statement) of the views in `database`.main (memory: the migrations')."""
    return ("select view_name, sql from duckdb_views() "
            f"where database_name = {literal(database)} and schema_name = 'main' and not internal")


def use(database: str) -> str:
    return f"use {quote(database)}"


def replace_view(create_view: str) -> str:
    """A migration's CREATE VIEW as CREATE OR REPLACE, to be run with the lake as the default
    database: the view is created there and binds the lake's tables (a view binds its names in
    its own database, so the in-memory one would read the empty in-memory tables)."""
    head = "CREATE VIEW "
    if not create_view.startswith(head):
        raise ValueError(f"not a CREATE VIEW statement: {create_view[:40]!r}")
    return "CREATE OR REPLACE VIEW " + create_view[len(head):]


def merge(table: str, stage: str, columns: Sequence[str], types: Mapping[str, str],
          primary_key: Sequence[str], version: str | None, write: str) -> str:
    """MERGE the registered relation `stage` into lake.`table` on its natural key. `merge`: update
    the staged columns when something differs and the stored row is not newer; `append`: keep the
    stored row. Returns (via DuckDB) the number of rows inserted or updated."""
    t, s = f"lake.{quote(table)}", quote(stage)
    select = ", ".join(f"cast({quote(c)} as {types[c]}) as {quote(c)}" for c in columns)
    order = ([f"{quote(version)} desc nulls last"] if version else []) + [
        f"{quote(c)} asc nulls last" for c in columns if c != version]
    partition = ", ".join(quote(k) for k in primary_key)
    on = " and ".join(f"t.{quote(k)} is not distinct from b.{quote(k)}" for k in primary_key)
    body = (f"merge into {t} as t using (select * from (select {select} from {s}) "
            f"qualify row_number() over (partition by {partition} order by {', '.join(order)}) = 1) as b "
            f"on {on} ")
    values = [c for c in columns if c not in primary_key]
    if write != "append" and values:
        changed = (f"({', '.join(f'b.{quote(c)}' for c in values)}) is distinct from "
                   f"({', '.join(f't.{quote(c)}' for c in values)})")
        if version:
            changed += f" and coalesce(b.{quote(version)} >= t.{quote(version)}, true)"
        sets = ", ".join(f"{quote(c)} = b.{quote(c)}" for c in values)
        body += f"when matched and {changed} then update set {sets} "
    cols = ", ".join(quote(c) for c in columns)
    body += f"when not matched then insert ({cols}) values ({', '.join(f'b.{quote(c)}' for c in columns)})"
    return body


def delete_missing(table: str, stage: str, types: Mapping[str, str], primary_key: Sequence[str]) -> str:
    """For `replace` tables (the batch is the whole table): delete lake rows whose key the staged
    batch does not carry. Returns the number deleted."""
    t, s = f"lake.{quote(table)}", quote(stage)
    same_key = " and ".join(f"cast(s.{quote(k)} as {types[k]}) = t.{quote(k)}" for k in primary_key)
    return f"delete from {t} as t where not exists (select 1 from {s} as s where {same_key})"


def table_columns() -> str:
    return ("select column_name, data_type from duckdb_columns() "
            "where database_name = 'lake' and table_name = $table")


# ── one writer at a time (connectors/lake_writes.py) ──────────────────────────────────────────
def write_lock_table() -> str:
    """A one-row table every lake write transaction deletes and re-inserts. DuckLake keeps no keys
    and lets concurrent inserts into one table commit, so two workers merging the same new key
    would both insert it; both deleting this row makes the later commit conflict instead, roll back
    and retry, and its MERGE then finds the earlier one's rows."""
    return "create table if not exists lake.write_lock (taken_at timestamptz)"


def seed_write_lock() -> str:
    """The row to delete (a delete of nothing conflicts with nothing)."""
    return "insert into lake.write_lock select now() where not exists (select 1 from lake.write_lock)"


def clear_write_lock() -> str:
    return "delete from lake.write_lock"


def insert_write_lock() -> str:
    return "insert into lake.write_lock values (now())"


# ── the derived-table maintainer (connectors/lake_derived.py) ──────────────────────────────────
def current_snapshot() -> str:
    return "select id from lake.current_snapshot()"


def table_changes(table: str, start: int, end: int) -> str:
    """Every row `table` gained, lost or changed in snapshots start…end (inclusive), both images of
    an update, in the table's own columns. DuckLake binds the bounds at plan time: literals."""
    return (f"select * exclude (snapshot_id, rowid, change_type) "
            f"from lake.table_changes({literal(table)}, {int(start)}, {int(end)})")


def derived_mark_table() -> str:
    """The snapshot the derived tables reflect: one row, kept on the lake itself so it moves in
    the same transaction as the derived rows."""
    return ("create table if not exists lake.derived_mark "
            "(snapshot_id bigint, maintained_at timestamptz)")


def derived_mark() -> str:
    return "select max(snapshot_id) from lake.derived_mark"


def clear_derived_mark() -> str:
    """Before moving the mark (two maintainers deleting the same row conflict in DuckLake, so only
    one of two overlapping passes commits)."""
    return "delete from lake.derived_mark"


def insert_derived_mark() -> str:
    return "insert into lake.derived_mark values ($snapshot_id, now())"
