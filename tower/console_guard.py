"""What the SQL console lets run, decided by DuckDB's own parser — never by matching the text.

`check()` splits a script with `extract_statements` and looks at each statement's type: SELECT
(DESCRIBE/SHOW/SUMMARIZE parse as SELECT) runs, EXPLAIN runs when the statement it explains is one
SELECT (found through DuckDB's tokenizer, so comments, `ANALYZE` and `(FORMAT JSON)` options can't hide
it), everything else is refused with the reason in words. A SELECT's syntax tree (`json_serialize_sql`)
must then hold no write (`with x as (delete … returning *)`), no table function off the allow-list, no
file read, no server-internals view and no function that discloses or changes server state.

This check is for clear messages, not the only wall: the worker runs every statement on a read-only
database with external access off and configuration locked, so a statement the check misjudged still
cannot write, read a file or change a setting (tower/console_worker.py).
"""
from __future__ import annotations

import json

import duckdb

import queries

MAX_SQL_CHARS = 100_000   # longer scripts are refused before parsing

# Table functions that only compute or describe Tower's own tables. Anything else is refused: a new
# DuckDB version may add functions that reach out, and an allow-list fails closed. Left out on purpose:
# duckdb_databases() (file paths), duckdb_settings() (server configuration), duckdb_memory(),
# duckdb_temporary_files(), duckdb_extensions(), duckdb_secrets(), pragma_database_size/storage_info.
SAFE_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_dependencies", "duckdb_functions",
    "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences", "duckdb_tables",
    "duckdb_types", "duckdb_views", "pragma_table_info", "pragma_show", "pragma_version",
    "pragma_collations", "pg_timezone_names", "icu_calendar_names",
}) | frozenset(
    # the semantic layer (queries/kpi/): every KPI's macro and the facts they read, plain selects over
    # Tower's tables, so an analyst gets the numbers the screens show
    [f"kpi_{name}" for name in queries.kpi_names()]
    + ["order_facts", "line_facts", "survey_facts", "shipment_state_at", "stock_pace_at",
       "stock_position_at", "stock_health_at", "po_state_at"]
)
# Built-in views over the catalog that may be read; other system views (pg_settings, duckdb_settings,
# duckdb_databases, pg_database …) show server settings or file paths and are refused.
SAFE_SYSTEM_VIEWS = frozenset({
    "duckdb_columns", "duckdb_constraints", "duckdb_indexes", "duckdb_schemas", "duckdb_tables",
    "duckdb_types", "duckdb_views", "tables", "columns", "views", "schemata", "table_constraints",
    "key_column_usage", "referential_constraints", "check_constraints", "constraint_column_usage",
})
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
SYSTEM_CATALOGS = frozenset({"system", "temp"})
# Scalar functions that disclose the server (settings, environment) or have side effects (sequences,
# logs, sleeping threads an interrupt can't wake). Unknown functions fail in DuckDB itself.
UNSAFE_SCALAR_FUNCTIONS = frozenset({
    "nextval", "currval", "setval", "setseed", "write_log", "sleep_ms", "current_setting", "getenv",
    "getvariable", "pg_sleep",
})
# Query-node types that read. Any other *_NODE (DELETE_/INSERT_/UPDATE_QUERY_NODE inside a CTE, or
# one a future DuckDB adds) is refused: fail closed.
READ_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
NO_FILES = ("The console reads no files: it queries Tower's tables only (files in the data folder are "
            "the database itself, its snapshot and exports of the same tables).")

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
    "PRAGMA": "PRAGMA changes or shows settings (use DESCRIBE, SHOW or pragma_table_info() instead)",
    "TRANSACTION": "transaction control is managed by the console", "VACUUM": "VACUUM rewrites data",
    "CALL": "CALL runs procedures", "PREPARE": "PREPARE is not needed here",
    "EXECUTE": "EXECUTE runs prepared statements", "UPDATE_EXTENSIONS": "extensions can't change",
    "MULTI": "this statement expands into several (e.g. PIVOT … ON); write FROM t PIVOT (…) instead",
    "ANALYZE": "ANALYZE updates statistics", "EXTENSION": "extensions can't change",
    "LOGICAL_PLAN": "plans can't be run directly", "RELATION": "relations can't be run directly",
}


class Refused(ValueError):
    """The script was not run because the guard found something it does not allow."""


def check(sql: str, con) -> list[tuple[str, frozenset[str]]]:
    """(statement SQL, its $parameter names) for every statement of `sql`, vetted; raises Refused
    (nothing has run) at the first problem. One refused statement refuses the whole script, so a
    write can't be smuggled in after a read. `con` is any DuckDB connection."""
    if not sql or not sql.strip():
        raise Refused("Nothing to run: write a SELECT query.")
    if len(sql) > MAX_SQL_CHARS:
        raise Refused(f"The script is longer than {MAX_SQL_CHARS:,} characters.")
    statements = _parse(sql, con)
    if not statements:
        raise Refused("Nothing to run: write a SELECT query.")
    checked = []
    for n, stmt in enumerate(statements, 1):
        try:
            _check_statement(stmt, con)
        except Refused as e:
            where = f"Statement {n} of {len(statements)}: " if len(statements) > 1 else ""
            raise Refused(f"{where}{e} Nothing was run.") from None
        checked.append((stmt.query, frozenset(stmt.named_parameters)))
    return checked


def _parse(sql: str, con) -> list:
    try:
        return con.extract_statements(sql)
    except duckdb.Error as e:
        raise Refused(f"{str(e).strip()} Nothing was run.") from None


def _check_statement(stmt, con) -> None:
    kind = stmt.type.name
    if kind == "SELECT":
        _check_select(stmt.query, con)
    elif kind == "EXPLAIN":
        # EXPLAIN ANALYZE executes its statement, so the inner statement gets the full check.
        inner = _parse(_explained(stmt.query), con)
        if len(inner) != 1 or inner[0].type.name != "SELECT":
            what = _REFUSAL_REASONS.get(inner[0].type.name, "") if len(inner) == 1 else ""
            raise Refused("EXPLAIN is allowed only for a single SELECT" + (f" ({what})." if what else "."))
        _check_select(inner[0].query, con)
    else:
        reason = _REFUSAL_REASONS.get(kind, f"{kind} statements are not allowed")
        raise Refused(f"Only read queries run in the console: {reason}.")


def _explained(query: str) -> str:
    """The statement an EXPLAIN explains: what follows EXPLAIN, ANALYZE and a parenthesised option
    list, located with DuckDB's tokenizer (comments are tokens of their own, not text to match)."""
    raw = duckdb.tokenize(query)
    ends = [pos for pos, _ in raw[1:]] + [len(query)]
    tokens = [(pos, query[pos:end].strip().lower()) for (pos, kind), end in zip(raw, ends)
              if kind.name != "comment"]
    if not tokens or tokens[0][1] != "explain":
        raise Refused("This EXPLAIN can't be checked, so it was refused.")
    i = 1
    if i < len(tokens) and tokens[i][1] in ("analyze", "analyse"):
        i += 1
    if i < len(tokens) and tokens[i][1] == "(":
        depth = 0
        for j in range(i, len(tokens)):
            depth += (tokens[j][1] == "(") - (tokens[j][1] == ")")
            if depth == 0:
                i = j + 1
                break
        else:
            raise Refused("This EXPLAIN can't be checked, so it was refused.")
    if i >= len(tokens):
        raise Refused("EXPLAIN needs a SELECT to explain.")
    return query[tokens[i][0]:]


def _check_select(sql: str, con) -> None:
    # fetchall, not fetchone: a result left open blocks the next statement on this connection
    [(serialized,)] = con.execute(queries.load("console/serialize"), {"sql": sql}).fetchall()
    tree = json.loads(serialized)
    if tree.get("error"):
        raise Refused(f"This query can't be checked, so it was refused ({tree.get('error_message')}).")
    for node in _walk(tree):
        _check_node(node)


def _walk(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _check_node(node: dict) -> None:
    kind = node.get("type")
    if isinstance(kind, str) and kind.endswith("_NODE") and kind not in READ_NODES:
        raise Refused(f"Only read queries run in the console: {kind.split('_')[0]} inside a "
                      "query changes data.")
    if kind == "TABLE_FUNCTION":
        name = ((node.get("function") or {}).get("function_name") or "").lower()
        if name not in SAFE_TABLE_FUNCTIONS:
            raise Refused(f"The table function {name}() is not allowed in the console."
                          + (f" {NO_FILES}" if _reads_files(name) else ""))
    elif kind in ("BASE_TABLE", "SHOW_REF"):
        _check_table_ref(node)
    elif node.get("class") == "FUNCTION":
        name = (node.get("function_name") or "").lower()
        if name in UNSAFE_SCALAR_FUNCTIONS:
            raise Refused(f"{name}() shows server internals or has side effects and is not allowed "
                          "in the console.")


def _check_table_ref(node: dict) -> None:
    name = (node.get("table_name") or "").lower()
    if any(ch in name for ch in "/\\.:*?~"):  # `from '/etc/hosts.csv'` is a file read (replacement scan)
        raise Refused(f"Reading {name!r} is not allowed. {NO_FILES}")
    schema = (node.get("schema_name") or "").lower()
    catalog = (node.get("catalog_name") or "").lower()
    system = schema in SYSTEM_SCHEMAS or catalog in SYSTEM_CATALOGS
    if (system or name.startswith(("duckdb_", "pg_", "pragma_"))) and name not in SAFE_SYSTEM_VIEWS:
        raise Refused(f"{name} shows server internals (settings, file paths), so the console "
                      "refuses it.")


def _reads_files(name: str) -> bool:
    return name.startswith(("read_", "parquet_", "sniff_", "glob", "iceberg", "delta"))
