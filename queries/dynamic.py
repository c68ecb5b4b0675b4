"""The few statements whose *identifiers* vary (a table or column name chosen by code), and the
lists of keys bound one parameter per value (`in_list`), built here so that no SQL text is assembled
anywhere outside queries/.

Only names declared in code (connector table definitions, the schema's table list, DuckDB's own
database name) are put into SQL, always quoted; values are never interpolated: they stay bound
parameters or registered Arrow tables."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence


def quote(ident: str) -> str:
    """A quoted SQL identifier (embedded quotes doubled)."""
    return '"' + str(ident).replace('"', '""') + '"'


@dataclass(frozen=True)
class Upsert:
    insert: str              # insert the staged batch (deduplicated on the key); returns rows changed
    delete_missing: str | None  # for `replace` tables: delete stored rows absent from the batch


def upsert(table: str, stage: str, columns: Sequence[str], types: Mapping[str, str],
           primary_key: Sequence[str], version: str | None, write: str) -> Upsert:
    """Statements writing the registered relation `stage` into `table` (see connectors.writes).

    Deduplicate on the primary key first (newest `version` wins; ties broken by every column).
    `merge`: update only the staged columns, only when something differs and the stored row is not
    newer. `append`: keep the stored row. `replace`: merge, then delete rows absent from the batch."""
    t, s = quote(table), quote(stage)
    select = ", ".join(f"cast({quote(c)} as {types[c]}) as {quote(c)}" for c in columns)
    order = ([f"{quote(version)} desc nulls last"] if version else []) + [
        f"{quote(c)} asc nulls last" for c in columns if c != version]
    partition = ", ".join(quote(k) for k in primary_key)
    body = (f"insert into {t} by name "
            f"select * from (select {select} from {s}) "
            f"qualify row_number() over (partition by {partition} order by {', '.join(order)}) = 1 "
            f"on conflict ({partition}) ")
    values = [c for c in columns if c not in primary_key]
    if write == "append" or not values:
        body += "do nothing"
    else:
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in values)
        changed = (f"({', '.join(f'excluded.{quote(c)}' for c in values)}) is distinct from "
                   f"({', '.join(f'{t}.{quote(c)}' for c in values)})")
        body += f"do update set {sets} where {changed}"
        if version:
            body += f" and coalesce(excluded.{quote(version)} >= {t}.{quote(version)}, true)"
    delete = None
    if write == "replace":
        same_key = " and ".join(f"cast(s.{quote(k)} as {types[k]}) = {t}.{quote(k)}" for k in primary_key)
        delete = f"delete from {t} where not exists (select 1 from {s} as s where {same_key})"
    return Upsert(body, delete)


def attach_snapshot(path: str) -> str:
    """Attach the snapshot file being written (tower.db.snapshot). A quoted literal, not a bound
    parameter: DuckDB 1.5 (the DuckLake build, docs/ducklake.md) cannot bind one in ATTACH."""
    return "attach '" + str(path).replace("'", "''") + "' as tower_snapshot"


def copy_schema(name: str) -> str:
    """Create database `name`'s tables (empty), views, macros and sequences in the attached
    `tower_snapshot` (tower.db.snapshot)."""
    return f"copy from database {quote(name)} to tower_snapshot (schema)"


def snapshot_table(database: str, table: str) -> str:
    """Replace the snapshot's empty `table` with a copy of its rows (tower.db.snapshot): columns and
    rows, without the keys and indexes, which readers do not need. Building them again is what made
    a whole-database copy take ~4 GB and ~30 s at the reference scale (issue 15), against ~1.6 GB
    and ~9 s this way (bench/bench_snapshot.py)."""
    target = f"tower_snapshot.{quote(table)}"
    source = f"{quote(database)}.main.{quote(table)}"
    return f"drop table {target}; create table {target} as select * from {source}"


# ── whole-table checks (connectors.testing) ─────────────────────────────────────────────────────
def count_rows(table: str) -> str:
    return f"select count(*) as n from {quote(table)}"


def duplicate_keys(table: str, key: Sequence[str]) -> str:
    cols = ", ".join(quote(c) for c in key)
    return f"select count(*) - count(distinct ({cols})) as d from {quote(table)}"


def all_rows(table: str, key: Sequence[str]) -> str:
    return f"select * from {quote(table)} order by {', '.join(quote(c) for c in key)}"


# DuckDB's `index_scan_max_count`: past this many values it never tries a key's index anyway.
IN_LIST_MAX = 2048


def in_list(sql: str, params: dict, **lists) -> tuple[str, dict]:
    """`sql` with each `{name}` (the inside of an `in (…)`) standing for the values `lists[name]`,
    and the parameters to run it with. Up to IN_LIST_MAX values become as many bound parameters
    (`$name_0, $name_1, …`): a list DuckDB sees while planning, so it looks the keys up in the
    table's ART index or filters them in the scan, where `in (select unnest($name))` hash-joins
    the whole table with the list (rollup_orders at reference: 23 → 7 ms for 100 orders). More
    values stay one list parameter. Values are never SQL text."""
    bound = dict(params)
    for name, values in lists.items():
        values = list(values)
        if len(values) > IN_LIST_MAX:
            text, bound[name] = f"select unnest(${name})", values
        else:
            text = ", ".join(f"${name}_{i}" for i in range(len(values))) or "null"  # in (null): none
            bound.update({f"{name}_{i}": v for i, v in enumerate(values)})
        sql = sql.replace("{" + name + "}", text)
    return sql, bound
