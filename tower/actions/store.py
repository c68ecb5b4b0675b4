"""Writing the action log: every status change is one compare-and-set on `actions`, one row in
`action_transitions` and one audit row, committed together or not at all."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb

import queries
from tower.actions.log import Action
from tower.auth import audit
from tower.auth.policy import Identity

# The audit trail's word for arriving in each status.
AUDIT_NAMES = {
    "proposed": "action.propose", "approved": "action.approve", "rejected": "action.reject",
    "sending": "action.execute", "sent": "action.sent", "acknowledged": "action.acknowledged",
    "failed": "action.failed", "manual": "action.manual", "done": "action.done",
    "reverting": "action.revert", "reverted": "action.reverted", "cancelled": "action.cancel",
}
MOVE_FIELDS = ("decided_by", "decided_at", "decision_comment", "sent_at", "acknowledged_at", "done_at",
               "external_id", "request", "response", "last_error", "vendor_cost", "eta",
               "manual_document", "manual_message")


class Lost(RuntimeError):
    """The action was no longer in the expected status: another worker moved it first."""


@contextmanager
def transaction(db) -> Iterator[duckdb.DuckDBPyConnection]:
    cur = db.cursor()
    cur.begin()
    try:
        yield cur
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    finally:
        cur.close()


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def record(cur, action_id: int, from_status: str | None, to_status: str, who: Identity, now: datetime,
           note: str | None, detail: dict | None = None, audit_action: str | None = None) -> None:
    """The transition row and its audit row (inside the caller's transaction)."""
    cur.execute(queries.load("actions/transition_append"), {
        "action_id": action_id, "now": now, "wall_at": datetime.now(timezone.utc),
        "from_status": from_status, "to_status": to_status, "actor": who.subject, "note": note})
    audit.record(cur, who, audit_action or AUDIT_NAMES[to_status], at=now, target=f"action:{action_id}",
                 detail={"from": from_status, "to": to_status, "note": note, **(detail or {})})


def move_in(cur, action: Action, to_status: str, who: Identity, now: datetime, *, note: str | None = None,
            attempts_add: int = 0, audit_action: str | None = None, **fields) -> None:
    """Compare-and-set `action` from its current status to `to_status` with `fields` (NULL keeps a
    column), inside the caller's transaction. Raises Lost when someone moved it meanwhile."""
    unknown = set(fields) - set(MOVE_FIELDS)
    if unknown:
        raise TypeError(f"not a column move() sets: {sorted(unknown)}")
    values = {name: fields.get(name) for name in MOVE_FIELDS}
    values["request"], values["response"] = _json(values["request"]), _json(values["response"])
    moved = cur.execute(queries.load("actions/move"), {
        **values, "action_id": action.action_id, "from_status": action.status, "to_status": to_status,
        "now": now, "attempts_add": attempts_add}).fetchone()
    if moved is None:
        raise Lost(f"action {action.action_id} is no longer {action.status}")
    record(cur, action.action_id, action.status, to_status, who, now, note,
           {"kind": action.kind, "key": action.idempotency_key}, audit_action)


def move(db, action: Action, to_status: str, who: Identity, now: datetime, **kwargs) -> None:
    """`move_in` in its own transaction. A write-write conflict with another worker is Lost too."""
    try:
        with transaction(db) as cur:
            move_in(cur, action, to_status, who, now, **kwargs)
    except duckdb.TransactionException as e:
        raise Lost(f"action {action.action_id}: {e}") from e


def attempt_failed(db, action_id: int, error: str, now: datetime) -> None:
    """A try that failed and will be retried: counted, with its error."""
    with transaction(db) as cur:
        cur.execute(queries.load("actions/attempt_failed"),
                    {"action_id": action_id, "last_error": error, "now": now})


def insert(db, *, key: str, kind: str, mode: str, params: dict, diagnosis: dict | None,
           estimated_cost: float, who: Identity, now: datetime, playbook: str | None, step: int | None,
           alert_id: int | None, execution_id: str | None, audit_extra: str | None) -> None:
    """Add the proposed action unless its key exists. Two racers: one row, and no error for either."""
    try:
        with transaction(db) as cur:
            row = cur.execute(queries.load("actions/insert"), {
                "key": key, "execution_id": execution_id, "playbook": playbook, "step": step,
                "alert_id": alert_id, "kind": kind, "mode": mode, "params": _json(params),
                "diagnosis": _json(diagnosis), "estimated_cost": estimated_cost, "proposed_by": who.subject,
                "now": now}).fetchone()
            if row is None:
                return  # the key was there already
            detail = {"kind": kind, "key": key, "mode": mode, "params": params, "playbook": playbook}
            record(cur, row[0], None, "proposed", who, now, None, detail)
            if audit_extra:
                audit.record(cur, who, audit_extra, at=now, target=f"action:{row[0]}", detail=detail)
    except (duckdb.ConstraintException, duckdb.TransactionException):
        return  # another writer committed the same key first: its row is the one


def ids(db, query: str, **params) -> list[int]:
    """Action ids from a query of queries/actions/ that selects only action_id."""
    with db.cursor() as cur:
        return [r[0] for r in cur.execute(queries.load(query), params).fetchall()]


def po_confirmations(db) -> list[dict]:
    """Sent/acknowledged raise_po actions with what the supplier portal says (po_known, goods_shipped)."""
    with db.cursor() as cur:
        cur.execute(queries.load("actions/po_confirmations"))
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, r)) for r in cur.fetchall()]
