"""What the app process owns: config, clock, the database, the embedded sandbox and the scheduler.

Started once per Streamlit server (`get()` is cached as a resource); pages only read through it."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone

import streamlit as st

from connectors.scheduler import Scheduler
from sandbox.server import start as start_sandbox
from tower import config as config_mod
from tower.alerts.engine import AlertEngine
from tower.clock import SimClock, SystemClock
from tower.db import Database

log = logging.getLogger("tower")


@dataclass
class Runtime:
    config: config_mod.Config
    clock: object                  # has .now() -> aware UTC datetime, and .speed
    db: Database
    sandbox: object | None = None  # sandbox.server.SandboxServer when embedded
    scheduler: object | None = None  # connectors.scheduler.Scheduler
    alerts: object | None = None     # tower.alerts.engine.AlertEngine

    def now(self) -> datetime:
        return self.clock.now()

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.alerts:
            self.alerts.stop()
        if self.sandbox:
            self.sandbox.stop()
        self.db.close()


def start(cfg: config_mod.Config | None = None, *, run_scheduler: bool = True) -> Runtime:
    cfg = cfg or config_mod.load()
    sandbox = None
    if cfg.sandbox.enabled:
        clock = SimClock(datetime.now(timezone.utc), cfg.sandbox.speed)
        sandbox = start_sandbox(cfg.sandbox, clock)
        log.info("sandbox serving at %s (speed %sx)", sandbox.url, cfg.sandbox.speed)
    else:
        clock = SystemClock()
    db = Database.for_config(cfg)
    rt = Runtime(cfg, clock, db, sandbox)
    # A config without sources is a read-only viewer of an existing database: nothing to schedule.
    if run_scheduler and cfg.sources:
        rt.scheduler = Scheduler(db, cfg, clock)
        # evaluated after every sync and on its own timer, so time-based rules (stale source,
        # unacknowledged escalation) fire even when nothing syncs
        rt.alerts = AlertEngine.from_config(db, cfg, clock)
        rt.scheduler.after_sync.append(rt.alerts.after_sync)
        rt.alerts.start()
        rt.scheduler.start()
    return rt


_preloaded: Runtime | None = None


def preload() -> Runtime:
    """Start the runtime now, before any browser session (used by `python -m tower`)."""
    global _preloaded
    _preloaded = start()
    return _preloaded


def get() -> Runtime:
    """The process-wide runtime (one per Streamlit server and config file)."""
    return _preloaded or _cached_runtime(os.environ.get("TOWER_CONFIG", ""))


def _start_cached(config_path: str) -> Runtime:
    return start(config_mod.load(config_path or None))


# cached across reruns and sessions of the Streamlit server
_cached_runtime = st.cache_resource(show_spinner="Starting Tower…")(_start_cached)
