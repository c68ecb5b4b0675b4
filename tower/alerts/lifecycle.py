"""What people do with an alert: acknowledge (with a comment), assign an owner, snooze, resolve by
hand (with a note). Each move takes the acting Identity and checks it here, on the server
(policy.require(who, "operate"), before anything is read or written): hiding a button is not the
check. The change, its alert_log row and its audit_log row are written in one transaction; times come
from the caller's clock. Invalid moves raise LifecycleError with a message fit for the screen; a
missing permission raises policy.Refused."""
from __future__ import annotations

from datetime import datetime

import queries
from tower.auth import audit, policy
from tower.auth.policy import Identity

STATES = ("open", "acknowledged", "resolved")
CURRENT = ("alert_id", "state", "owner", "snoozed_until", "severity")


# alert_log action → audit_log action
AUDIT_ACTIONS = {"acknowledged": "alert.acknowledge", "assigned": "alert.assign",
                 "snoozed": "alert.snooze", "resolved": "alert.resolve"}


class LifecycleError(ValueError):
    pass


def _need(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LifecycleError(f"{what} is required")
    return text[:2000]


def _change(db, alert_id: int, now: datetime, who: Identity, action: str, check, statement: str,
            params: dict, changes: dict, old_col: str, new_value, note: str | None) -> dict:
    """Run the move's own fixed statement (a queries/alerts/lifecycle/ name, bound with
    $alert_id, $now and `params`), log it in alert_log and in the audit trail, in one transaction;
    `changes` is what it sets, as the caller sees it in the returned row."""
    alert_id = int(alert_id)
    cur = db.cursor()
    cur.begin()
    try:
        row = cur.execute(queries.load("alerts/lifecycle/current"), {"alert_id": alert_id}).fetchone()
        if row is None:
            raise LifecycleError(f"alert #{alert_id} does not exist")
        current = dict(zip(CURRENT, row))
        check(current)
        cur.execute(queries.load(statement),
                    {**params, "alert_id": alert_id, "now": now})
        old = current.get(old_col)
        cur.execute(queries.load("alerts/store/log_entry"), {
            "alert_id": alert_id, "logged_at": now, "actor": who.name, "action": action,
            "old_value": None if old is None else str(old),
            "new_value": None if new_value is None else str(new_value), "note": note})
        audit.record(cur, who, AUDIT_ACTIONS[action], at=now, target=f"alert:{alert_id}", detail={
            "field": old_col, "old": None if old is None else str(old),
            "new": None if new_value is None else str(new_value), "note": note})
        cur.commit()
    except Exception:
        cur.rollback()
        raise
    finally:
        cur.close()
    return {**current, **changes}


def acknowledge(db, alert_id: int, who: Identity, comment: str | None, now: datetime) -> dict:
    """open → acknowledged. The comment is optional but kept (it is what the next shift reads)."""
    policy.require(who, "operate")
    by = who.name

    def check(a):
        if a["state"] != "open":
            raise LifecycleError(f"alert #{a['alert_id']} is {a['state']}, not open")

    comment = (comment or "").strip() or None
    return _change(db, alert_id, now, who, "acknowledged", check, "alerts/lifecycle/acknowledge",
                   {"by": by, "comment": comment},
                   {"state": "acknowledged", "acknowledged_at": now, "acknowledged_by": by,
                    "ack_comment": comment}, "state", "acknowledged", comment)


def assign(db, alert_id: int, owner: str, who: Identity, now: datetime) -> dict:
    policy.require(who, "operate")
    owner = _need(owner, "Owner")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, who, "assigned", check, "alerts/lifecycle/assign",
                   {"owner": owner}, {"owner": owner}, "owner", owner, None)


def snooze(db, alert_id: int, until: datetime, who: Identity, now: datetime, note: str | None = None) -> dict:
    """Hide the alert from the banner and hold the overdue escalation until `until`."""
    policy.require(who, "operate")
    if until <= now:
        raise LifecycleError("snooze end must be in the future")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, who, "snoozed", check, "alerts/lifecycle/snooze",
                   {"until": until},
                   {"snoozed_until": until}, "snoozed_until", until.isoformat(),
                   (note or "").strip() or None)


def resolve(db, alert_id: int, who: Identity, note: str, now: datetime) -> dict:
    """Resolve by hand. If the condition still holds, the engine will not re-open it until it
    has cleared once (see engine._step)."""
    policy.require(who, "operate")
    by = who.name
    note = _need(note, "A resolution note")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, who, "resolved", check, "alerts/lifecycle/resolve",
                   {"by": by, "note": note},
                   {"state": "resolved", "open_key": None, "resolved_at": now, "resolved_by": by,
                    "resolution_note": note}, "state", "resolved", note)
