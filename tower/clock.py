"""Clocks. Everything in Tower asks a clock for "now" instead of the system, so the sandbox can run
an accelerated world, tests can step time by hand, and replay can ask "as of 10:00"."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


def utc(dt: datetime) -> datetime:
    """Aware UTC datetime; naive input is taken as UTC."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class SimClock:
    """Simulated time that is `start` (default: `anchor`) at the wall time `anchor` (when the world
    began) and runs `speed` times faster than the wall clock. speed=60 turns one real minute into one
    simulated hour."""

    def __init__(self, anchor: datetime, speed: float = 1.0, wall=time.time, *, start: datetime | None = None):
        self.anchor = utc(anchor)
        self.start = utc(start) if start is not None else self.anchor
        self.speed = float(speed)
        self._wall = wall
        self._wall_anchor = self.anchor.timestamp()

    def now(self) -> datetime:
        elapsed = self._wall() - self._wall_anchor
        return self.start + timedelta(seconds=elapsed * self.speed)

    def to_dict(self) -> dict:
        return {"anchor": self.anchor.isoformat(), "start": self.start.isoformat(), "speed": self.speed}


class ManualClock:
    """A clock that only moves when told to: for tests and replay."""

    speed = 1.0

    def __init__(self, start: datetime):
        self._now = utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = utc(when)

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now
