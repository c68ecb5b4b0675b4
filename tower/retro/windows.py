"""Retro time windows: an event's [start, end) and the baselines it is compared with (the previous
window, the same hours last week / last year, or another event cut to the same length)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tower.clock import utc

BASELINES = ("previous", "last_week", "last_year", "event")


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) in UTC, optionally the window of a stored event."""
    start: datetime
    end: datetime
    label: str = ""
    event_id: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "start", utc(py_datetime(self.start)))
        object.__setattr__(self, "end", utc(py_datetime(self.end)))

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def shifted(self, delta: timedelta, label: str) -> Window:
        return Window(self.start + delta, self.end + delta, label)

    def elapsed(self, now: datetime) -> Window:
        """The part of the window that has happened by `now` (all of it once it is over)."""
        end = max(min(self.end, utc(py_datetime(now))), self.start)
        return Window(self.start, end, self.label, self.event_id)

    def params(self, base: dict | None = None) -> dict:
        """`base` (the page's filter params) with this window as $start/$end."""
        return {**(base or {}), "start": self.start, "end": self.end}


def py_datetime(ts) -> datetime:
    return ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts


def baseline(event: Window, kind: str, other: Window | None = None,
             now: datetime | None = None) -> Window:
    """The window to compare `event` with:
    previous  — the window of the same length just before it;
    last_week — the same hours 7 days earlier;
    last_year — the same hours 52 weeks earlier (364 days: the same weekday, which matters more for
                retail demand than the calendar date);
    event     — another event's window (`other`), cut to the event's length, so both cover the
                same hours counted from their start.
    With `now`, an event still running is compared on the hours it has had so far: the first
    10 hours of a 24-hour promotion against 10 hours of the baseline, never against a full day."""
    if now is not None:
        event = event.elapsed(now)
    if kind == "event":
        if other is None:
            raise ValueError("baseline 'event' needs the other event's window")
        return Window(other.start, min(other.end, other.start + event.length), other.label, other.event_id)
    if kind == "previous":
        return Window(event.start - event.length, event.start, "previous")
    if kind == "last_week":
        return event.shifted(-timedelta(days=7), "last_week")
    if kind == "last_year":
        return event.shifted(-timedelta(weeks=52), "last_year")
    raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")

