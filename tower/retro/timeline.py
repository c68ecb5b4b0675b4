"""What happened when: alerts opened in a window with their time to acknowledge and resolve,
annotations, disruption windows, and who did what (the audit trail's acknowledgements, assignments,
resolutions, notes, actions and approvals)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from tower.clock import utc
from tower.retro.data import has_table
from tower.retro.windows import Window

DEFAULT_ACK_TARGET_MINUTES = 60.0
AUDIT_COLUMNS = ["happened_at", "actor_name", "action", "target"]

def alert_timeline(db, window: Window, now: datetime,
                   ack_target_minutes: float = DEFAULT_ACK_TARGET_MINUTES) -> pd.DataFrame | None:
    """Alerts opened in the window with time to acknowledge / resolve; None when the alerts table
    does not exist (the alerts migration is absent), an empty frame when there were none."""
    if not has_table(db, "alerts"):
        return None
    return db.query("retro/alert_timeline", {"start": window.start, "end": window.end, "now": utc(now),
                                             "ack_target_minutes": float(ack_target_minutes)})


def annotations(db, window: Window, event_id: str | None = None) -> pd.DataFrame:
    return db.query("retro/annotations", {"event_id": event_id, "start": window.start, "end": window.end})


def disruptions(db, window: Window) -> pd.DataFrame:
    return db.query("retro/disruptions", {"start": window.start, "end": window.end})


def audit_events(db, window: Window) -> pd.DataFrame:
    """Who did what in the window, oldest first (queries/retro/audit_events.sql); an empty frame
    when the database predates the audit trail."""
    if not has_table(db, "audit_log"):
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    return db.query("retro/audit_events", {"start": window.start, "end": window.end})
