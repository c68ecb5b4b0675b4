"""Runs every configured source on its interval, each at its own phase (`phases`: no two are ever
due together), plus the periodic analyst snapshot.

One loop thread decides what is due (wall-clock seconds, `time.monotonic`); each due source runs in
its own short-lived worker thread, so a slow or failing source never delays the others. A per-source
lock guarantees one run of a source at a time (the loop skips a source that is still running).
Exceptions are caught and logged per run: nothing a source does can stop the loop.
`after_sync` callbacks get `(source_name, RunResult)` after every run (the alerts engine hooks in).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Callable

from connectors import build
from connectors.base import RunResult, sync
from tower import foreground

log = logging.getLogger("tower.scheduler")

# Reference data first: Shopify maps stock through planning's SKUs and warehouses.
KIND_ORDER = {"planning": 0, "supplier_portal": 1}


SNAPSHOT_SHARE = 0.1  # at most this share of the time goes to copying the analyst snapshot


def snapshot_gap(interval_s: float, took_s: float) -> float:
    """Seconds until the next snapshot: the configured interval, stretched so that copying (which
    took `took_s` last time: seconds on a large database) stays under SNAPSHOT_SHARE of the time."""
    return max(interval_s, took_s / SNAPSHOT_SHARE)


def phases(intervals: dict[str, float]) -> dict[str, float]:
    """Each source's offset (s) from the scheduler's start: evenly spaced within the greatest common
    divisor of the intervals, so no two sources are ever due at the same moment. The sandbox's
    intervals (10–60 s) all divide 60: started together, every minute all ten committed at once and
    queued on the write lock while the wall screens waited (bench/README.md, "Soak")."""
    step_ms = math.gcd(*(max(1, round(s * 1000)) for s in intervals.values()))
    return {name: k * step_ms / 1000 / len(intervals) for k, name in enumerate(intervals)}


def next_due(due: float, now: float, interval_s: float) -> float:
    """The next slot on a source's own grid (`due` + whole intervals), so it keeps its phase; slots
    that passed while it was still running are skipped."""
    return due + (max(0, math.floor((now - due) / interval_s)) + 1) * interval_s


class Scheduler:
    def __init__(self, db, config, clock, *, only: list[str] | None = None, tick_s: float = 0.2):
        self.db = db
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        self.after_sync: list[Callable[[str, RunResult], None]] = []
        self.build_errors: dict[str, str] = {}
        self.sources = {}
        names = only if only is not None else list(config.sources)
        for name in sorted(names, key=lambda n: (KIND_ORDER.get(config.sources[n].kind, 9), n)):
            try:
                self.sources[name] = build(config.sources[name], config)
            except ValueError as e:  # a bad source is reported, the others still run
                self.build_errors[name] = str(e)
                log.error("source %s not scheduled: %s", name, e)
        self.last_results: dict[str, RunResult] = {}
        self._attempted: set[str] = set()  # sources that have run (or crashed) at least once
        self._locks = {name: threading.Lock() for name in self.sources}
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._workers_lock = threading.Lock()
        self._snapshot_busy = threading.Lock()
        self._snapshot_version: int | None = None  # the data version the last snapshot copied
        self.snapshot_took_s = 0.0                  # how long the last copy took
        self.next_snapshot_at = float("inf")        # monotonic time the loop publishes the next one

    # ── running one source ──────────────────────────────────────────────────────────────────────
    def run_once(self, name: str, wait: bool = True) -> RunResult | None:
        """Run source `name` now; None if it is already running and `wait` is False."""
        lock = self._locks[name]
        if not lock.acquire(blocking=wait):
            return None
        try:
            result = sync(self.sources[name], self.db, self.clock, cancel=self._cancel)
        except Exception:  # the database itself failed (run log unwritable …): log, keep going
            log.exception("sync %s crashed", name)
            return None
        finally:
            self._attempted.add(name)
            lock.release()
        self.last_results[name] = result
        for callback in list(self.after_sync):
            try:
                callback(name, result)
            except Exception:
                log.exception("after_sync callback %r failed for %s", callback, name)
        return result

    def run_all(self) -> dict[str, RunResult | None]:
        """Every source once, in dependency order (planning first), one after another."""
        return {name: self.run_once(name) for name in self.sources}

    def snapshot(self):
        """Publish the analyst snapshot now (skipped if one is already being written, or if nothing
        was written since the last one: at the reference scale a copy is ~2 GB)."""
        if self._cancel.is_set() or not self._snapshot_busy.acquire(blocking=False):
            return None
        try:
            version = self.db.data_version()
            if version == self._snapshot_version and self.config.snapshot_path.exists():
                return None
            started = time.monotonic()
            path = self.db.snapshot(self.config.snapshot_path)
            self.snapshot_took_s = time.monotonic() - started
            # spaced from this copy's own start and length: scheduled when it began, the second copy
            # of a large database used to start while the first was still running (issue 15)
            self.next_snapshot_at = started + snapshot_gap(self.config.snapshot_interval_s, self.snapshot_took_s)
            self._snapshot_version = version
            return path
        except Exception:
            if self._cancel.is_set():  # interrupted by stop(): nothing was published, nothing is wrong
                log.info("snapshot to %s cut short: the scheduler is stopping", self.config.snapshot_path)
            else:
                log.exception("snapshot to %s failed", self.config.snapshot_path)
            return None
        finally:
            self._snapshot_busy.release()

    # ── the loop ────────────────────────────────────────────────────────────────────────────────
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._cancel.clear()
        self._thread = threading.Thread(target=self._loop, name="tower-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop, cancel runs in flight (they roll back) and a snapshot copy, and join
        every thread."""
        self._cancel.set()
        self.db.interrupt_snapshot()
        deadline = time.monotonic() + timeout
        if self._thread:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        with self._workers_lock:
            workers = list(self._workers)
        for t in workers:
            t.join(max(0.0, deadline - time.monotonic()))

    def _spawn(self, name: str, target) -> None:
        def work():
            try:
                foreground.shared.wait_quiet()  # a due sync starts after the screens' tick
                if not self._cancel.is_set():  # stopped meanwhile: the database may be closing
                    target()
            except Exception:  # never let a worker die noisily; the loop keeps going
                log.exception("worker %s failed", name)
            finally:
                with self._workers_lock:
                    self._workers.discard(threading.current_thread())
        t = threading.Thread(target=work, name=f"tower-sync-{name}", daemon=True)
        with self._workers_lock:
            self._workers.add(t)
        t.start()

    def _loop(self) -> None:
        start = time.monotonic()
        offsets = phases({name: s.cfg.interval_s for name, s in self.sources.items()})
        due = {name: start + offsets[name] for name in self.sources}
        self.next_snapshot_at = start + self.config.snapshot_interval_s
        # Reference sources (planning …) get a head start: until each has been tried once, the others
        # wait, so Shopify's first run can already map locations to warehouses.
        pending_reference = {n for n, s in self.sources.items() if s.cfg.kind in KIND_ORDER}
        while not self._cancel.is_set():
            try:
                now = time.monotonic()
                pending_reference -= self._attempted
                for name, source in self.sources.items():
                    if pending_reference and name not in pending_reference:
                        continue
                    if now >= due[name] and not self._locks[name].locked():
                        due[name] = next_due(due[name], now, source.cfg.interval_s)
                        self._spawn(name, lambda n=name: self.run_once(n, wait=False))
                if self.config.snapshot_interval_s > 0 and now >= self.next_snapshot_at:
                    self.next_snapshot_at = now + self.config.snapshot_interval_s  # the copy sets it again
                    self._spawn("snapshot", self.snapshot)
            except Exception:  # pragma: no cover - defensive: the loop must survive anything
                log.exception("scheduler loop error")
            self._cancel.wait(self.tick_s)
