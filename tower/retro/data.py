"""The few ways the retro touches the database: a named query bound with exactly the parameters it
uses, a write through a cursor, and "does this table exist" (the alerts migration is optional)."""
from __future__ import annotations

import pandas as pd

import queries
from tower import kpis


def run(db, name: str, params: dict) -> pd.DataFrame:
    """A named query with exactly the parameters it uses (missing ones NULL = all)."""
    return kpis.run(db, name, params)


def execute(db, name: str, params: dict) -> None:
    with db.cursor() as cur:
        cur.execute(queries.load(name), params)


def has_table(db, table: str) -> bool:
    return table in set(db.query("retro/tables")["table_name"])
