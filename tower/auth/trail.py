"""Reading the audit trail (the Audit page): admins only, checked here on the server. Nothing in
Tower changes or deletes an audit row; this module only reads them."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

import queries
from tower.auth import policy
from tower.auth.policy import Identity

ROW_LIMIT = 1000   # the page shows the newest rows that match; narrow the filters for older ones


def rows(db, who: Identity | None, *, start: datetime, end: datetime, actor: str | None = None,
         action: str | None = None, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """Audit rows with happened_at in [start, end), newest first, for an admin; policy.Refused else."""
    policy.require(who, "administer")
    return db.df(queries.load("auth/audit_page"), {"actor": actor, "action": action, "start": start,
                                                   "end": end, "row_limit": int(limit)})


def filters(db, who: Identity | None) -> pd.DataFrame:
    """The (actor, actor_name, action) pairs in the trail, for the page's filter choices."""
    policy.require(who, "administer")
    return db.df(queries.load("auth/audit_filters"))
