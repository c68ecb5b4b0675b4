"""Current-state tables (migrations 020, 021, 023, 024): the newest stock observation per SKU × warehouse,
the newest progress report per PO, the newest checkpoint per shipment and each shipment with it, and
each shipment's first and newest checkpoint with a position, kept up to date in the writer's
transaction so live readers read one row per entity instead of a window over the whole history.

The three histories are append-only (a key's first stored row is kept), so after a batch the newest
row of an entity is the newer of its stored state and the batch's rows as stored: `after` recomputes
exactly the entities the batch touched from those rows (queries/state_tables/<table>.sql), whatever
order the rows come in, duplicated or replayed. shipment_latest takes the new newest checkpoints, and
is re-read whole for the shipments a batch of shipments names. `rebuild` recomputes everything.
How "as of" readers use the tables: see queries/schema/020_state_tables.sql."""
from __future__ import annotations

from typing import Any

import duckdb

import queries

Cursor = duckdb.DuckDBPyConnection

# raw table → the statements refreshing its current-state tables from the batch `_state_batch`, in order
REFRESH = {
    "stock_observations": ("state_tables/stock_observations",),
    "po_progress": ("state_tables/po_progress",),
    "tracking_events": ("state_tables/tracking_events",),
    "shipments": ("state_tables/shipment_latest",),
}
TABLES = tuple(REFRESH)      # the raw tables whose writes this module follows
BATCH_VIEW = "_state_batch"  # the name the refresh statements read the batch by


def after(cur: Cursor, table: str, stage: str, token: Any) -> None:
    """Bring `table`'s current-state table up to date with the batch just applied."""
    cur.register(BATCH_VIEW, cur.table(stage))  # the refresh statements read the batch by a fixed name
    try:
        for name in REFRESH[table]:
            cur.execute(queries.load(name))
    finally:
        cur.unregister(BATCH_VIEW)


def rebuild(cur: Cursor) -> None:
    """Recompute every current-state table from the raw history."""
    cur.execute(queries.load("state_tables/rebuild"))

