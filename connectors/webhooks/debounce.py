"""Run a callback soon after something happened, but not once per happening.

The webhook loader pokes after every batch it loads; a burst of 1,000 deliveries must not run the
callback (an alert evaluation) 1,000 times. `Debounced` runs it on its own thread — so a slow
callback never holds up loading — at once after the first poke, then at most once every
`min_interval_s`: pokes during a run or the pause after it fold into one more run. A callback that
returns False could not do its work yet (the alert engine skips an evaluation closer than its own
`min_interval_s` to the last one): it is run again after the pause, without a new poke.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("tower.webhooks")


class Debounced:
    def __init__(self, callback: Callable[[], bool | None], min_interval_s: float = 1.0, name: str = "debounced"):
        self.callback = callback
        self.min_interval_s = min_interval_s
        self.runs = 0
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tower-{name}", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._poked.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._poked.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._poked.wait()
            if self._stop.is_set():
                return
            self._poked.clear()
            try:
                done = self.callback() is not False
            except Exception:  # a failing callback must not end the thread
                log.exception("debounced callback %r failed", self.callback)
                done = True
            self.runs += 1
            if not done:
                self._poked.set()
            if self._stop.wait(self.min_interval_s):
                return
