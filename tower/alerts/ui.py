"""What the shared frame and pages read about open alerts: counts by severity, the unacknowledged
red alerts behind the banner, and which of them a screen has not seen yet. Reads only; no drawing
(tower.ui.alert_banner draws the banner)."""
from __future__ import annotations

import logging

import queries

log = logging.getLogger("tower.alerts.ui")


def open_alert_counts(db, now) -> dict[str, int]:
    """Unresolved, not snoozed alerts by severity: {"red": n, "yellow": m} (zeros included)."""
    try:
        df = db.df(queries.load("alerts/views/open_counts"), {"now": now})
    except Exception as e:  # noqa: BLE001 - e.g. a database older than the alerts migration
        log.warning("open alert counts failed: %s", e)
        return {"red": 0, "yellow": 0}
    return counts_by_severity(df)


def counts_by_severity(open_counts) -> dict[str, int]:
    """The rows of queries/alerts/views/open_counts.sql as {"red": n, "yellow": m} (zeros included)."""
    counts = {"red": 0, "yellow": 0}
    for row in open_counts.itertuples(index=False):
        counts[str(row.severity)] = int(row.alerts)
    return counts


def new_red_ids(red_ids: list[int], seen: int | None) -> list[int]:
    """Red alerts newer than the last one this screen has seen. The first look only remembers
    (a screen switched on mid-incident should not chime for old news)."""
    if seen is None:
        return []
    return [i for i in red_ids if i > seen]
