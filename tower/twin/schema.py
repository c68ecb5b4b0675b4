"""The twin's tables (migration 016_twin) on a database that applied an earlier 016.

016_twin first held only twin_thresholds; twin_scenarios and twin_runs were appended to it later, so
a database migrated in between has 016 recorded without them. Every statement of 016 is `create
table if not exists`, so running the file again adds what is missing and changes nothing else."""
from __future__ import annotations

import duckdb

import queries

MIGRATION = "schema/016_twin"


def ensure(db) -> bool:
    """True when the twin's tables are there (created now if missing); False on a read-only snapshot
    that lacks them (readers then see no saved scenarios or runs)."""
    if int(db.query("twin/tables_present")["present"].iloc[0]) == 2:
        return True
    try:
        with db.cursor() as cur:
            cur.execute(queries.load(MIGRATION))
        return True
    except (duckdb.InvalidInputException, duckdb.PermissionException, duckdb.IOException):
        return False
