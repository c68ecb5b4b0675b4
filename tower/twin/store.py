"""Stored comparisons (twin_runs): a summary saved under a short id so a run can be shared by link."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import queries
from tower.auth import audit
from tower.auth.policy import Identity, require
from tower.twin.outcome import Comparison


def save_run(db, who: Identity | None, comparison: Comparison, *, now: datetime | None = None) -> str:
    """Store the comparison's figures (no fan) and return its id; audited. Anyone who may view may share."""
    who = require(who, "view")
    at = now or datetime.now(timezone.utc)
    body = comparison.to_json(per_key=True, fan=False)
    text = json.dumps(body, sort_keys=True, default=str)
    run_id = hashlib.sha256(f"{text}{at.isoformat()}{who.subject}".encode()).hexdigest()[:12]
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("twin/run_save"), {
                "run_id": run_id, "scenario": comparison.scenario.name, "body": text, "runs": comparison.runs,
                "seed": comparison.seed, "network_at": comparison.now, "by": who.subject, "at": at})
            audit.record(cur, who, "twin.run.save", at=at, target=run_id,
                         detail={"scenario": comparison.scenario.name, "winner": comparison.winner})
            cur.commit()
        except Exception:
            cur.rollback()
            raise
    return run_id


def get_run(db, run_id: str) -> dict | None:
    """The stored summary (as Comparison.to_json gave it) with who ran it and when, or None."""
    rows = db.query("twin/run_get", {"run_id": run_id})
    if rows.empty:
        return None
    r = rows.iloc[0]
    return {**json.loads(r.body), "run_id": r.run_id, "created_by": r.created_by,
            "created_at": r.created_at.isoformat()}
