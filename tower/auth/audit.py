"""The audit trail: one append-only row per write (who, when, from where, what changed).

`record` takes a cursor so a change and its audit row commit in one transaction. No statement in
queries/ updates or deletes audit_log (tests/test_auth_policy.py checks it)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import queries
from tower.auth.policy import Identity


def record(cur, who: Identity, action: str, *, at: datetime, target: str | None = None,
           detail: dict | None = None) -> None:
    """Append one audit row. `at` is Tower's clock (simulated in the sandbox, like alert_log);
    the wall-clock time is stored beside it. `detail` is what changed (JSON; no secrets)."""
    cur.execute(queries.load("auth/audit_append"), {
        "at": at, "wall_at": datetime.now(timezone.utc), "actor": who.subject, "actor_name": who.name,
        "roles": ",".join(sorted(who.roles)), "merchant_id": who.merchant, "origin": who.origin,
        "via": who.via, "action": action, "target": target,
        "detail": json.dumps(detail, default=str, sort_keys=True) if detail is not None else None})


def record_now(db, who: Identity, action: str, *, at: datetime, target: str | None = None,
               detail: dict | None = None) -> None:
    """`record` in its own transaction (for writes that are not database changes: an export, a query)."""
    with db.cursor() as cur:
        record(cur, who, action, at=at, target=target, detail=detail)
