"""Screens first: background work in the app server starts in a moment when no screen is drawing.

The app server is one Python process: the screens' refreshes, the connectors' syncs, the webhook
loader, the alert evaluations and the revalidator's board computations share its interpreter and
the machine's cores. Twenty wall screens refreshing in step spend most of each 5-s tick idle and
under a second drawing; when a sync's transaction, a webhook load and an alert evaluation happened
to start inside that second, every screen of the tick waited for them ("bad ticks", bench/README.md
"Soak"). Lowering the background threads' priority made it worse (a low-priority thread holding
the interpreter holds it longer), so instead background jobs wait, before they start, until no
screen has drawn for QUIET_S — at most MAX_WAIT_S, so a screen that never stops drawing cannot
starve the sources (their intervals are ten seconds and more).

Screens mark their drawing with `drawing()` (app.py around the page, tower.ui.context.live around
each live fragment); background jobs call `wait_quiet()` before each unit of work: the scheduler
before a due sync or the snapshot, the webhook loader before a batch, the alert engine before an
evaluation the app triggers, the revalidator before a board. A thread that is drawing never waits
for itself."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

QUIET_S = 0.1     # screens of one tick start within tens of ms of each other: a shorter lull is mid-tick
MAX_WAIT_S = 1.0  # the longest a background job defers to the screens (a tick draws in under a second)


class Foreground:
    def __init__(self, quiet_s: float = QUIET_S, max_wait_s: float = MAX_WAIT_S):
        self.quiet_s, self.max_wait_s = quiet_s, max_wait_s
        self._drawing = 0
        self._last_drawn = float("-inf")  # monotonic time the last drawing ended
        self._changed = threading.Condition()
        self._mine = threading.local()
        self.waited_s = 0.0  # total time background jobs deferred (bench, tests)

    @contextmanager
    def drawing(self) -> Iterator[None]:
        """Mark the calling thread as drawing a screen for the duration of the block."""
        with self._changed:
            self._drawing += 1
        self._mine.depth = getattr(self._mine, "depth", 0) + 1
        try:
            yield
        finally:
            self._mine.depth -= 1
            with self._changed:
                self._drawing -= 1
                self._last_drawn = time.monotonic()
                self._changed.notify_all()

    def wait_quiet(self) -> float:
        """Block until no screen has drawn for `quiet_s`, at most `max_wait_s`; seconds waited."""
        if getattr(self._mine, "depth", 0):
            return 0.0
        start = time.monotonic()
        deadline = start + self.max_wait_s
        with self._changed:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if self._drawing:
                    self._changed.wait(deadline - now)
                    continue
                lull_left = self._last_drawn + self.quiet_s - now
                if lull_left <= 0:
                    break
                self._changed.wait(min(lull_left, deadline - now))
            waited = time.monotonic() - start
            self.waited_s += waited
        return waited


shared = Foreground()  # one per process: every session's screens and every background job
