"""Derived tables (hourly rollups, current-state tables) kept in step with the raw tables they
summarise, inside the writer's own transaction.

Every write of a raw table goes through `connectors.writes.upsert`, which calls `before(cur, table,
stage)` with the staged batch registered as a relation named `stage` (not applied yet) and, once the
batch is applied, `after(cur, table, stage, tokens)`. A maintainer uses `before` to note what the
batch is about to change (e.g. the hours an order counted in until now) and `after` to recompute
exactly those parts of its derived table from the raw rows. Raw rows stay the truth: `rebuild(cur)`
recomputes every derived table from them in one transaction (a migration's backfill, a test's rows),
`rebuild_each(cur)` one maintainer per transaction (a bulk load: a bench dataset, a merchant's cut),
and tests assert that incremental maintenance always equals a rebuild.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import duckdb

from connectors import rollups, state_tables

Cursor = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Maintainer:
    name: str
    tables: tuple[str, ...]                                   # raw tables whose writes it follows
    after: Callable[[Cursor, str, str, Any], None]            # (cur, table, stage, token from before)
    rebuild: Callable[[Cursor], None]                         # recompute everything from raw rows
    before: Callable[[Cursor, str, str], Any] | None = None   # (cur, table, stage) -> token


# The maintainers, in the order they run. Each lives in its own module and is listed here.
MAINTAINERS: tuple[Maintainer, ...] = (
    Maintainer("state_tables", state_tables.TABLES, after=state_tables.after, rebuild=state_tables.rebuild),
    Maintainer("rollups", rollups.TABLES, rollups.after, rollups.rebuild, rollups.before),
)


def followed_tables() -> tuple[str, ...]:
    """The raw tables some derived table follows, in a stable order."""
    return tuple(dict.fromkeys(t for m in MAINTAINERS for t in m.tables))


def before(cur: Cursor, table: str, stage: str) -> dict[str, Any]:
    """Tokens of the maintainers that follow `table`, taken before the batch is applied."""
    return {m.name: m.before(cur, table, stage) if m.before else None
            for m in MAINTAINERS if table in m.tables}


def after(cur: Cursor, table: str, stage: str, tokens: dict[str, Any]) -> None:
    """Bring every derived table that follows `table` up to date with the applied batch."""
    for m in MAINTAINERS:
        if table in m.tables:
            m.after(cur, table, stage, tokens.get(m.name))


def rebuild(cur: Cursor) -> None:
    """Recompute every derived table from the raw rows (in the caller's transaction)."""
    for m in MAINTAINERS:
        m.rebuild(cur)


def rebuild_each(cur: Cursor) -> None:
    """`rebuild`, one maintainer per transaction, for a bulk load into a file nobody reads yet (the
    caller has committed the raw rows). DuckDB keeps the key indexes of the tables a transaction
    rewrote in memory until it commits: at the reference scale the current-state tables' and the
    rollups' together do not fit a 512MB memory limit, each alone does (bench/README.md, "Server
    memory"). A failure leaves the maintainers before it rebuilt, and rebuilding again redoes them."""
    for m in MAINTAINERS:
        cur.begin()
        try:
            m.rebuild(cur)
        except BaseException:
            cur.rollback()
            raise
        cur.commit()
