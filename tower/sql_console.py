"""The analyst's SQL console: a guard that lets only read queries through, and a runner that executes
them on the live database with a time limit and a row cap.

Three layers, so one mistake in any of them does not open the database:
1. `check()` parses the script with DuckDB's own parser before anything runs: every statement must be a
   SELECT (DESCRIBE/SHOW/SUMMARIZE parse as SELECT) or an EXPLAIN of one; its syntax tree (from
   `json_serialize_sql`) must contain no writes (`with x as (delete … returning *)`), no table function
   off the allow-list, no side-effect function, and no file outside the data folder. One refused
   statement refuses the whole script, so a write can't be smuggled in after a read.
2. `run()` executes inside `begin transaction read only` and always rolls back.
3. `tower.db.Database` hardens the live instance when it opens it: DuckDB itself refuses files outside
   the data folder, extension installs and settings changes.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

import queries

ROW_CAP = 10_000          # rows shown/downloaded; the note tells the analyst to aggregate or filter
TIME_LIMIT_S = 30.0       # a runaway query is interrupted after this many seconds
MAX_SQL_CHARS = 100_000   # longer scripts are refused before parsing

# Table functions that only compute or describe the catalog. Anything else is refused: a new DuckDB
# version may add functions that reach out, and an allow-list fails closed.
SAFE_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
    "duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences",
    "duckdb_tables", "duckdb_types", "duckdb_views", "duckdb_memory", "duckdb_settings",
    "pragma_table_info", "pragma_show", "pragma_storage_info", "pragma_database_size",
    "pragma_version", "pragma_platform", "pragma_collations", "pg_timezone_names",
    "icu_calendar_names",
}) | frozenset(
    # the semantic layer (queries/kpi/): every KPI's macro and the facts they read, plain selects over
    # Tower's tables, so an analyst gets the numbers the screens show
    [f"kpi_{name}" for name in queries.kpi_names()]
    + ["order_facts", "line_facts", "survey_facts", "shipment_state_at", "stock_position_at",
       "stock_health_at", "po_state_at"]
)
# Table functions that read files: allowed only on literal paths inside the data folder.
FILE_TABLE_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
    "read_ndjson_objects", "read_text", "read_blob", "glob", "sniff_csv", "parquet_metadata",
    "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_full_metadata",
    "parquet_bloom_probe",
})
# Scalar functions with side effects on the database or the process (sequences, logs, sleeping
# threads that an interrupt can't wake).
UNSAFE_SCALAR_FUNCTIONS = frozenset({"nextval", "setval", "setseed", "write_log", "sleep_ms"})
# Query-node types that read. Any other *_NODE (DELETE_/INSERT_/UPDATE_QUERY_NODE inside a CTE, or
# one a future DuckDB adds) is refused: fail closed.
READ_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})

# Why each refused statement type is refused, in words an analyst understands.
_REFUSAL_REASONS = {
    "INSERT": "INSERT changes data", "UPDATE": "UPDATE changes data",
    "DELETE": "DELETE changes data", "MERGE_INTO": "MERGE changes data",
    "CREATE": "CREATE changes the schema", "DROP": "DROP changes the schema",
    "ALTER": "ALTER changes the schema", "CREATE_FUNC": "CREATE MACRO changes the schema",
    "COPY": "COPY writes or reads files", "COPY_DATABASE": "COPY DATABASE writes files",
    "EXPORT": "EXPORT DATABASE writes files", "ATTACH": "ATTACH opens other databases or files",
    "DETACH": "DETACH closes databases", "LOAD": "INSTALL/LOAD adds extensions",
    "SET": "SET/RESET/USE changes settings", "VARIABLE_SET": "SET VARIABLE changes settings",
    "PRAGMA": "PRAGMA changes settings (use DESCRIBE, SHOW or pragma_table_info() instead)",
    "TRANSACTION": "transaction control is managed by the console", "VACUUM": "VACUUM rewrites data",
    "CALL": "CALL runs procedures", "PREPARE": "PREPARE is not needed here",
    "EXECUTE": "EXECUTE runs prepared statements", "UPDATE_EXTENSIONS": "extensions can't change",
    "MULTI": "this statement expands into several (e.g. PIVOT … ON); write FROM t PIVOT (…) instead",
}
_EXPLAIN = re.compile(
    r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*explain\s+(?:analy[sz]e\s+)?(?P<inner>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class Refused(ValueError):
    """The script was not run because the guard found something it does not allow."""


class QueryFailed(RuntimeError):
    """DuckDB rejected or aborted the query; the message is DuckDB's own."""


class QueryTimedOut(QueryFailed):
    """The query ran past the time limit and was interrupted."""


@dataclass(frozen=True)
class CheckedStatement:
    sql: str
    kind: str                        # "SELECT" or "EXPLAIN"
    parameters: frozenset[str]       # $names the statement binds


@dataclass(frozen=True)
class ConsoleResult:
    df: pd.DataFrame
    truncated: bool                  # more rows existed than the cap
    elapsed_s: float
    statements: int

    @property
    def rows(self) -> int:
        return len(self.df)


# ── access hook ────────────────────────────────────────────────────────────────────────────────
def console_allowed(roles: frozenset[str] | None) -> bool:
    """Who may use the console. Roles don't exist yet (`None`): everyone, behind the guard.
    When they do, pass the signed-in user's roles and only analysts/admins get in."""
    if roles is None:
        return True
    return bool({"analyst", "admin"} & set(roles))


# ── the guard ──────────────────────────────────────────────────────────────────────────────────
def check(sql: str, con, data_dir: str | os.PathLike | None) -> list[CheckedStatement]:
    """Every statement of `sql`, vetted; raises Refused (nothing has run) at the first problem.

    `con` is any DuckDB connection/cursor: only its parser and `json_serialize_sql` are used."""
    if not sql or not sql.strip():
        raise Refused("Nothing to run: write a SELECT query.")
    if len(sql) > MAX_SQL_CHARS:
        raise Refused(f"The script is longer than {MAX_SQL_CHARS:,} characters.")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise Refused(_duckdb_message(e)) from None
    if not statements:
        raise Refused("Nothing to run: write a SELECT query.")
    checked = []
    for n, stmt in enumerate(statements, 1):
        where = f"Statement {n} of {len(statements)}: " if len(statements) > 1 else ""
        try:
            checked.append(_check_statement(stmt, con, data_dir))
        except Refused as e:
            raise Refused(f"{where}{e} Nothing was run.") from None
    return checked


def _check_statement(stmt, con, data_dir) -> CheckedStatement:
    kind = stmt.type.name
    params = frozenset(stmt.named_parameters)
    if kind == "SELECT":
        _check_select(stmt.query, con, data_dir)
        return CheckedStatement(stmt.query, "SELECT", params)
    if kind == "EXPLAIN":
        # EXPLAIN ANALYZE executes its statement, so the inner statement gets the full check.
        match = _EXPLAIN.match(stmt.query)
        inner = con.extract_statements(match.group("inner")) if match else []
        if len(inner) != 1 or inner[0].type.name != "SELECT":
            raise Refused("EXPLAIN is allowed only for a single SELECT.")
        _check_select(inner[0].query, con, data_dir)
        return CheckedStatement(stmt.query, "EXPLAIN", params)
    reason = _REFUSAL_REASONS.get(kind, f"{kind} statements are not allowed")
    raise Refused(f"Only read queries run in the console: {reason}.")


def _check_select(sql: str, con, data_dir) -> None:
    tree = json.loads(con.execute(queries.load("console/serialize"), {"sql": sql}).fetchone()[0])
    if tree.get("error"):
        raise Refused(f"This query can't be checked, so it was refused ({tree.get('error_message')}).")
    for node in _walk(tree):
        _check_node(node, data_dir)


def _walk(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _check_node(node: dict, data_dir) -> None:
    kind = node.get("type")
    if isinstance(kind, str) and kind.endswith("_NODE") and kind not in READ_NODES:
        raise Refused(f"Only read queries run in the console: {kind.split('_')[0]} inside a "
                      "query changes data.")
    if kind == "TABLE_FUNCTION":
        _check_table_function(node.get("function") or {}, data_dir)
    elif kind in ("BASE_TABLE", "SHOW_REF"):
        name = node.get("table_name") or ""
        if _looks_like_path(name):  # `from '/etc/hosts.csv'` is a file read (replacement scan)
            _check_path(name, data_dir)
    elif node.get("class") == "FUNCTION":
        name = (node.get("function_name") or "").lower()
        if name in UNSAFE_SCALAR_FUNCTIONS:
            raise Refused(f"{name}() has side effects and is not allowed in the console.")


def _check_table_function(fn: dict, data_dir) -> None:
    name = (fn.get("function_name") or "").lower()
    if name in SAFE_TABLE_FUNCTIONS:
        return
    if name not in FILE_TABLE_FUNCTIONS:
        raise Refused(f"The table function {name}() is not allowed in the console.")
    args = fn.get("arguments") or []
    if not args:
        raise Refused(f"{name}() needs a file path.")
    for path in _literal_paths(args[0].get("expression") or {}, name):
        _check_path(path, data_dir)


def _literal_paths(expr: dict, fn_name: str) -> list[str]:
    """The path(s) a file function will read: a string literal or a list of them. Anything computed
    (`'/e' || 'tc/passwd'`) can't be checked before it runs, so it is refused."""
    if expr.get("class") == "CONSTANT" and (expr.get("literal") or {}).get("kind") == "STRING":
        return [expr["literal"]["text"]]
    if expr.get("class") == "FUNCTION" and expr.get("function_name") == "list_value":
        return [p for a in expr.get("arguments") or []
                for p in _literal_paths(a.get("expression") or {}, fn_name)]
    raise Refused(f"{fn_name}() takes only literal file paths in the console.")


def _looks_like_path(name: str) -> bool:
    return any(ch in name for ch in "/\\.:*?~")


def _check_path(path: str, data_dir) -> None:
    """Allowed: a literal path inside the data folder, optionally with * or ? in it."""
    outside = f"Reading {path!r} is not allowed: the console only reads files inside the data folder."
    if data_dir is None:
        raise Refused(outside)
    if _URL_SCHEME.match(path) or path.startswith("~") or "\\" in path or "\x00" in path:
        raise Refused(outside)
    if any(ch in path for ch in "[]{}") or ".." in Path(path).parts:
        raise Refused(outside)
    # DuckDB resolves relative paths against the process's working directory.
    absolute = Path(os.path.abspath(path))
    literal_prefix = Path(*[p for p in _until_glob(absolute.parts)])
    root = Path(os.path.realpath(data_dir))
    resolved = Path(os.path.realpath(literal_prefix))  # follows symlinks out of the folder, if any
    if resolved != root and root not in resolved.parents:
        raise Refused(outside)


def _until_glob(parts):
    for part in parts:
        if "*" in part or "?" in part:
            return
        yield part


# ── the runner ─────────────────────────────────────────────────────────────────────────────────
def run(db, sql: str, *, data_dir: str | os.PathLike | None, params: dict | None = None,
        time_limit_s: float = TIME_LIMIT_S, row_cap: int = ROW_CAP,
        roles: frozenset[str] | None = None) -> ConsoleResult:
    """Check `sql`, then run it on a fresh cursor of `db` (a tower.db.Database or a DuckDB
    connection) in a read-only transaction. Returns the last statement's result, at most `row_cap`
    rows. `params` are bound by name (the page passes the sidebar filters: $start, $end, …)."""
    if not console_allowed(roles):
        raise Refused("The SQL console is for analysts.")
    cur = db.cursor()
    try:
        statements = check(sql, cur, data_dir)
        binds = [_binds(s, params or {}) for s in statements]
        return _execute(cur, statements, binds, time_limit_s, row_cap)
    finally:
        cur.close()


def _binds(stmt: CheckedStatement, params: dict) -> dict | None:
    missing = sorted(stmt.parameters - set(params))
    if missing:
        known = ", ".join(f"${k}" for k in sorted(params)) or "none"
        raise Refused(f"Unknown parameter ${missing[0]} (available: {known}). Nothing was run.")
    return {k: params[k] for k in stmt.parameters} or None


def _execute(cur, statements, binds, time_limit_s, row_cap) -> ConsoleResult:
    timed_out = threading.Event()

    def stop():
        timed_out.set()
        cur.interrupt()

    timer = threading.Timer(time_limit_s, stop)
    timer.daemon = True
    started = time.perf_counter()
    cur.execute("begin transaction read only")
    timer.start()
    try:
        for stmt, bind in zip(statements, binds):
            cur.execute(stmt.sql, bind)
        df, truncated = _fetch_capped(cur, row_cap)
    except duckdb.Error as e:
        if timed_out.is_set():
            raise QueryTimedOut(
                f"The query ran longer than {time_limit_s:g} s and was stopped. "
                "Filter or aggregate more, or add a LIMIT."
            ) from None
        raise QueryFailed(_duckdb_message(e)) from None
    finally:
        timer.cancel()
        try:
            cur.execute("rollback")
        except duckdb.Error:
            pass  # an interrupted or aborted transaction is discarded when the cursor closes
    return ConsoleResult(df, truncated, time.perf_counter() - started, len(statements))


def _fetch_capped(cur, row_cap: int) -> tuple[pd.DataFrame, bool]:
    """Stream chunks until one row past the cap: a huge result is never materialised."""
    chunks, total = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duckdb's own pandas-deprecation noise
        while total <= row_cap:
            chunk = cur.fetch_df_chunk(1)
            if not len(chunk):
                if not chunks:
                    chunks.append(chunk)  # keeps the column names of an empty result
                break
            chunks.append(chunk)
            total += len(chunk)
    if total > row_cap:
        cur.abort()  # drop the rest of the stream instead of computing it
    df = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return df.iloc[:row_cap].reset_index(drop=True), total > row_cap


def _duckdb_message(e: Exception) -> str:
    return str(e).strip() or type(e).__name__
