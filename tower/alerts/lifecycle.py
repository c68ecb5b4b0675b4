"""What people do with an alert: acknowledge (with a comment), assign an owner, snooze, resolve by
hand (with a note). Each change and its alert_log row are written in one transaction; times come
from the caller's clock. Invalid moves raise LifecycleError with a message fit for the screen."""
from __future__ import annotations

from datetime import datetime

STATES = ("open", "acknowledged", "resolved")


class LifecycleError(ValueError):
    pass


def _need(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LifecycleError(f"{what} is required")
    return text[:2000]


def _change(db, alert_id: int, now: datetime, actor: str, action: str, check, sets: dict,
            old_col: str, new_value, note: str | None) -> dict:
    cur = db.cursor()
    cur.execute("begin")
    try:
        row = cur.execute(
            "select alert_id, state, owner, snoozed_until, severity from alerts where alert_id = ?",
            [int(alert_id)]).fetchone()
        if row is None:
            raise LifecycleError(f"alert #{alert_id} does not exist")
        current = dict(zip(("alert_id", "state", "owner", "snoozed_until", "severity"), row))
        check(current)
        assignments = ", ".join(f"{col} = ?" for col in sets)
        cur.execute(f"update alerts set {assignments}, updated_at = ? where alert_id = ?",  # noqa: S608 - column names are ours
                    [*sets.values(), now, int(alert_id)])
        old = current.get(old_col)
        cur.execute(
            "insert into alert_log (alert_id, logged_at, actor, action, old_value, new_value, note) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [int(alert_id), now, actor, action, None if old is None else str(old),
             None if new_value is None else str(new_value), note])
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    finally:
        cur.close()
    return {**current, **sets}


def acknowledge(db, alert_id: int, by: str, comment: str | None, now: datetime) -> dict:
    """open → acknowledged. The comment is optional but kept (it is what the next shift reads)."""
    by = _need(by, "Your name")

    def check(a):
        if a["state"] != "open":
            raise LifecycleError(f"alert #{a['alert_id']} is {a['state']}, not open")

    comment = (comment or "").strip() or None
    return _change(db, alert_id, now, by, "acknowledged", check,
                   {"state": "acknowledged", "acknowledged_at": now, "acknowledged_by": by,
                    "ack_comment": comment}, "state", "acknowledged", comment)


def assign(db, alert_id: int, owner: str, by: str, now: datetime) -> dict:
    owner = _need(owner, "Owner")
    by = _need(by, "Your name")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, by, "assigned", check, {"owner": owner}, "owner", owner, None)


def snooze(db, alert_id: int, until: datetime, by: str, now: datetime, note: str | None = None) -> dict:
    """Hide the alert from the banner and hold the overdue escalation until `until`."""
    by = _need(by, "Your name")
    if until <= now:
        raise LifecycleError("snooze end must be in the future")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, by, "snoozed", check, {"snoozed_until": until},
                   "snoozed_until", until.isoformat(), (note or "").strip() or None)


def resolve(db, alert_id: int, by: str, note: str, now: datetime) -> dict:
    """Resolve by hand. If the condition still holds, the engine will not re-open it until it
    has cleared once (see engine._step)."""
    by = _need(by, "Your name")
    note = _need(note, "A resolution note")

    def check(a):
        if a["state"] == "resolved":
            raise LifecycleError(f"alert #{a['alert_id']} is already resolved")

    return _change(db, alert_id, now, by, "resolved", check,
                   {"state": "resolved", "open_key": None, "resolved_at": now, "resolved_by": by, "resolution_note": note},
                   "state", "resolved", note)
