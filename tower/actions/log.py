"""Reading the action log: one `Action` per row of `actions`, its transitions, filtered listings."""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime

import queries

# Statuses in which an action still needs someone or something (the wall screen's "in flight").
IN_FLIGHT = ("proposed", "approved", "sending", "sent", "acknowledged", "manual")
FINAL = ("rejected", "failed", "done", "reverted", "cancelled")
JSON_COLUMNS = ("params", "diagnosis", "request", "response")


@dataclass(frozen=True)
class Action:
    action_id: int
    idempotency_key: str
    execution_id: str | None
    playbook: str | None
    step: int | None
    alert_id: int | None
    kind: str
    mode: str
    params: dict
    diagnosis: dict | None
    estimated_cost: float | None
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    sent_at: datetime | None
    acknowledged_at: datetime | None
    done_at: datetime | None
    external_id: str | None
    request: dict | None
    response: dict | None
    attempts: int
    last_error: str | None
    updated_at: datetime
    # migration 017
    vendor_cost: float | None = None
    eta: datetime | None = None
    manual_document: str | None = None
    manual_message: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


FIELDS = tuple(f.name for f in fields(Action))


def _from_row(columns: list[str], row: tuple) -> Action:
    data = dict(zip(columns, row))
    for name in JSON_COLUMNS:
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return Action(**{k: v for k, v in data.items() if k in FIELDS})


def _fetch(cur, name: str, params: dict) -> list[Action]:
    cur.execute(queries.load(name), params)
    columns = [d[0] for d in cur.description]
    return [_from_row(columns, r) for r in cur.fetchall()]


def get_in(cur, action_id: int) -> Action | None:
    """`get` inside an open cursor/transaction."""
    found = _fetch(cur, "actions/get", {"action_id": action_id})
    return found[0] if found else None


def get(db, action_id: int) -> Action | None:
    with db.cursor() as cur:
        return get_in(cur, action_id)


def by_key(db, key: str) -> Action | None:
    with db.cursor() as cur:
        found = _fetch(cur, "actions/by_key", {"key": key})
    return found[0] if found else None


def listing(db, *, statuses=None, playbook: str | None = None, alert_id: int | None = None,
            execution_id: str | None = None, since: datetime | None = None, limit: int = 500) -> list[Action]:
    with db.cursor() as cur:
        return _fetch(cur, "actions/listing", {
            "statuses": list(statuses) if statuses else None, "playbook": playbook,
            "alert_id": alert_id, "execution_id": execution_id, "since": since, "limit": int(limit)})


def by_execution(db, execution_ids: list[str]) -> dict[str, list[Action]]:
    """The actions of these executions, newest first, per execution (one without any is absent)."""
    with db.cursor() as cur:
        found = _fetch(cur, "actions/of_executions", {"execution_ids": list(execution_ids)})
    out: dict[str, list[Action]] = {}
    for action in found:
        out.setdefault(action.execution_id, []).append(action)
    return out


def transitions(db, action_id: int) -> list[dict]:
    with db.cursor() as cur:
        cur.execute(queries.load("actions/transitions"), {"action_id": action_id})
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, r)) for r in cur.fetchall()]
