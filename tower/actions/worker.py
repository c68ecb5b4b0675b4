"""The app's action worker: a thread that, after each alert evaluation (and on its own beat), first
resends what a crash left half-sent, then reconciles sent actions with what the connectors
ingested, then lets automatic playbooks act. Sending (with its retries and backoff) happens here,
never in the alert engine's thread, so a slow vendor cannot delay the next evaluation."""
from __future__ import annotations

import logging
import threading

from tower.actions import engine, runner

log = logging.getLogger("tower.actions")


class ActionWorker:
    def __init__(self, db, cfg, clock, beat_wall_s: float = 15.0):
        self.db, self.cfg, self.clock = db, cfg, clock
        self.beat_wall_s = beat_wall_s
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def poke(self, *_args) -> None:
        """Run a pass soon (the alert engine calls this after each evaluation)."""
        self._poke.set()

    def run_once(self) -> runner.Outcome:
        now = self.clock.now()
        if self.passes == 0:
            engine.recover(self.db, self.cfg, now)
        engine.reconcile(self.db, self.cfg, now)
        outcome = runner.automatic_pass(self.db, self.cfg, now)
        self.passes += 1
        return outcome

    def start(self) -> None:
        def loop():
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception:
                    log.exception("action pass failed")
                self._poke.wait(self.beat_wall_s)
                self._poke.clear()

        self._thread = threading.Thread(target=loop, name="tower-actions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread:
            self._thread.join(timeout=10)
