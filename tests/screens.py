"""A wall screen drawing, held for as long as a test needs: what tower.foreground makes background
jobs wait for."""
from __future__ import annotations

import threading
import time

from tower import foreground


class DrawingScreen:
    """A thread inside `foreground.shared.drawing()` from start() until stop()."""

    def __init__(self):
        self._entered, self._release = threading.Event(), threading.Event()
        self.ended_at: float | None = None  # monotonic time the drawing ended
        self._thread = threading.Thread(target=self._draw, daemon=True)

    def _draw(self) -> None:
        with foreground.shared.drawing():
            self._entered.set()
            self._release.wait(60)
        self.ended_at = time.monotonic()

    def start(self) -> DrawingScreen:
        self._thread.start()
        assert self._entered.wait(5)
        return self

    def stop(self) -> None:
        self._release.set()
        self._thread.join(5)
