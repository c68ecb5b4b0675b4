"""Retro events: promotion and disruption windows from the planning source, `[[events]]` in
tower.toml and the UI, plus the annotations people add about a moment. Creating an event or an
annotation takes the acting Identity, needs the "operate" permission (checked here, on the server)
and writes its audit row in the same transaction as the change."""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pandas as pd

import queries
from tower.auth import audit, policy
from tower.auth.policy import Identity
from tower.clock import utc

log = logging.getLogger("tower.retro")

EVENT_COLUMNS = ["event_id", "name", "starts_at", "ends_at", "kind", "source"]


def config_events(raw: dict | None) -> tuple[pd.DataFrame, list[str]]:
    """`[[events]]` tables of tower.toml (name, starts_at, ends_at, optional id/event_id and kind)
    as event rows with source 'config', plus a message per entry that was skipped (never raises:
    a typo in the config must not hide the other events)."""
    rows, problems = [], []
    entries = (raw or {}).get("events", [])
    if not isinstance(entries, list):
        return pd.DataFrame(columns=EVENT_COLUMNS), ["[[events]] must be an array of tables"]
    for i, entry in enumerate(entries):
        where = f"[[events]] #{i + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a table")
            continue
        try:
            start, end = _when(entry.get("starts_at")), _when(entry.get("ends_at"))
        except (TypeError, ValueError) as e:
            problems.append(f"{where}: {e}")
            continue
        if start is None or end is None or end <= start:
            problems.append(f"{where}: needs starts_at before ends_at")
            continue
        name = str(entry.get("name") or "").strip() or f"Event {start:%Y-%m-%d %H:%M}"
        kind = entry.get("kind", "promotion")
        if kind not in ("promotion", "disruption"):
            problems.append(f"{where}: kind must be promotion or disruption")
            continue
        event_id = str(entry.get("event_id") or entry.get("id") or new_event_id(name, start, "cfg"))
        rows.append({"event_id": event_id, "name": name, "starts_at": start, "ends_at": end,
                     "kind": kind, "source": "config"})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS), problems


def _when(value) -> datetime | None:
    """A TOML datetime/date or ISO text as aware UTC (naive = UTC); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if hasattr(value, "isoformat") and not isinstance(value, str):  # a TOML date
        return datetime.fromisoformat(value.isoformat()).replace(tzinfo=UTC)
    if isinstance(value, str):
        return utc(datetime.fromisoformat(value.strip()))
    raise TypeError(f"not a date/time: {value!r}")


def list_events(db, raw_config: dict | None = None) -> pd.DataFrame:
    """Every event: the stored ones (planning source, UI) and the config's, newest first. A stored
    event with the same id wins over the config copy (it may have been edited in the UI)."""
    stored = db.query("retro/events")
    configured, problems = config_events(raw_config)
    for p in problems:
        log.warning("config events: %s", p)
    frames = [f for f in (stored, configured) if len(f)]
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    events = pd.concat(frames, ignore_index=True)
    for col in ("starts_at", "ends_at"):
        events[col] = pd.to_datetime(events[col], utc=True)
    events = events.drop_duplicates("event_id", keep="first")
    return events.sort_values(["starts_at", "event_id"], ascending=[False, True]).reset_index(drop=True)


def new_event_id(name: str, starts_at: datetime, prefix: str = "ui") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "event"
    return f"{prefix}-{slug}-{utc(starts_at):%Y%m%d%H%M}"


def create_event(db, who: Identity, name: str, starts_at: datetime, ends_at: datetime, now: datetime,
                 kind: str = "promotion") -> str:
    """Store an event created in the UI (source 'ui'); returns its id. Bad input raises ValueError
    with a message fit to show, and writes nothing; so does a missing permission (policy.Refused)."""
    policy.require(who, "operate")
    name = (name or "").strip()
    if not name:
        raise ValueError("name is required")
    if len(name) > 200:
        raise ValueError("name is longer than 200 characters")
    if kind not in ("promotion", "disruption"):
        raise ValueError("kind must be promotion or disruption")
    start, end = utc(starts_at), utc(ends_at)
    if end <= start:
        raise ValueError("the end must be after the start")
    event_id = new_event_id(name, start)
    values = {"event_id": event_id, "name": name, "starts_at": start, "ends_at": end, "kind": kind,
              "source": "ui", "updated_at": utc(now)}
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("retro/event_upsert"), values)
            audit.record(cur, who, "event.create", at=utc(now), target=f"event:{event_id}",
                         detail={"new": {k: values[k] for k in ("name", "starts_at", "ends_at", "kind")}})
            cur.commit()
        except Exception:
            cur.rollback()
            raise
    return event_id


def add_annotation(db, who: Identity, text: str, happened_at: datetime, now: datetime,
                   event_id: str | None = None) -> int:
    """Store a note about a moment, signed with who wrote it; returns its id. Empty text raises
    ValueError, a missing permission policy.Refused (nothing written either way)."""
    policy.require(who, "operate")
    text = (text or "").strip()
    if not text:
        raise ValueError("the note is empty")
    with db.cursor() as cur:
        cur.begin()
        try:
            row = cur.execute(queries.load("retro/annotation_insert"), {
                "event_id": event_id, "happened_at": utc(happened_at), "author": who.name[:100],
                "text": text[:2000], "created_at": utc(now)}).fetchone()
            audit.record(cur, who, "annotation.add", at=utc(now), target=f"annotation:{int(row[0])}",
                         detail={"new": {"event_id": event_id, "happened_at": utc(happened_at),
                                         "text": text[:2000]}})
            cur.commit()
        except Exception:
            cur.rollback()
            raise
    return int(row[0])

