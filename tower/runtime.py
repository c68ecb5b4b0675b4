"""What the app process owns: config, clock, the database, the embedded sandbox and the scheduler.

Started once per Streamlit server (`get()` is cached as a resource); pages only read through it."""
from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from connectors import geocode, lake_derived, sea_routes
from connectors import webhooks as webhooks_mod
from connectors.scheduler import Scheduler
from sandbox.server import start as start_sandbox
from sandbox.webhook_sender import WebhookSender
from tower import config as config_mod
from tower.actions.worker import ActionWorker
from tower.alerts.engine import AlertEngine
from tower.twin import forecast
from tower.clock import SystemClock
from tower import store
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
    actions: object | None = None    # tower.actions.worker.ActionWorker (executable playbooks)
    webhooks: object | None = None   # connectors.webhooks.Webhooks (receiver + loader)
    webhook_sender: object | None = None  # sandbox.webhook_sender.WebhookSender (sandbox pushes)
    lake_maintainer: object | None = None  # connectors.lake_derived.Maintainer (DuckLake store)
    forecast_refits: forecast.AfterSync | None = None  # the twin's forecast refit after syncs

    def now(self) -> datetime:
        return self.clock.now()

    def stop(self) -> None:
        if self.lake_maintainer:
            self.lake_maintainer.stop()
        if self.webhook_sender:
            self.webhook_sender.stop()
        if self.webhooks:
            self.webhooks.stop()
        if self.scheduler:
            self.scheduler.stop()
        if self.forecast_refits:
            self.forecast_refits.stop()
        if self.actions:
            self.actions.stop()
        if self.alerts:
            self.alerts.stop()
        if self.sandbox:
            self.sandbox.stop()
        self.db.close()


def start(cfg: config_mod.Config | None = None, *, run_scheduler: bool = True) -> Runtime:
    cfg = cfg or config_mod.load()
    sandbox = None
    if cfg.sandbox.enabled:
        clock = cfg.sandbox.clock()
        sandbox = start_sandbox(cfg.sandbox, clock)
        log.info("sandbox serving at %s (speed %sx)", sandbox.url, cfg.sandbox.speed)
    else:
        clock = SystemClock()
    # [store] kind = "ducklake": an app server reading the shared lake (docs/ducklake.md)
    lake = store.settings(cfg.raw)
    db = store.database(cfg) if lake.kind == "ducklake" else Database.for_config(cfg)
    rt = Runtime(cfg, clock, db, sandbox)
    threading.Thread(target=settle, name="tower-settle", daemon=True).start()
    if lake.kind == "ducklake" and lake.maintain:
        rt.lake_maintainer = lake_derived.Maintainer(db, lake.maintain_every_s)
        rt.lake_maintainer.start()
    if run_scheduler:
        _start_webhooks(rt)
    # A config without sources is a read-only viewer of an existing database: nothing to schedule.
    if run_scheduler and cfg.sources:
        rt.scheduler = Scheduler(db, cfg, clock)
        # evaluated after every sync and on its own timer, so time-based rules (stale source,
        # unacknowledged escalation) fire even when nothing syncs
        rt.alerts = AlertEngine.from_config(db, cfg, clock)
        rt.scheduler.after_sync.append(rt.alerts.after_sync)
        rt.forecast_refits = forecast.AfterSync(db, clock)   # Tower's own forecast (twin)
        rt.scheduler.after_sync.append(rt.forecast_refits)
        if rt.webhooks is not None and rt.webhooks.loader is not None:
            # webhook-fed changes are evaluated promptly too, at most once a second in a burst
            rt.webhooks.after_load(alerts_after_webhooks(rt.alerts), min_interval_s=1.0)
        # playbooks act after each evaluation, on their own thread (a slow vendor never delays alerts)
        rt.actions = ActionWorker(db, cfg, clock)
        rt.alerts.after_evaluate.append(rt.actions.poke)
        rt.actions.start()
        rt.alerts.start()
        rt.scheduler.start()
    return rt


def settle() -> None:
    """Build what the server keeps for its life (the map's gazetteer and sea lanes), then take
    everything alive out of the cyclic garbage collector's reach (`gc.freeze`). Twenty wall screens
    at the reference scale made a full collection walk ~500,000 long-lived objects every ~10 s,
    each holding the interpreter ~0.4 s: every screen's refresh waited for it (bench/README.md,
    "Soak"). The first map render built the gazetteer and lane network itself, holding every other
    screen for seconds."""
    geocode.warm()
    sea_routes.warm()
    gc.freeze()


def alerts_after_webhooks(alerts: AlertEngine):
    """The after-webhook-load callback: evaluate now; False when the engine coalesced it into its
    previous evaluation (its min_interval_s or min_interval_wall_s), so the debouncer tries again a
    moment later and the newest data is never left for the timer."""
    def evaluate() -> bool:
        try:
            return not alerts.evaluate_when_due().skipped
        except Exception:  # like after_sync: a bad moment must not stop the loader
            log.exception("alert evaluation after webhooks failed")
            return True
    return evaluate


def _start_webhooks(rt: Runtime) -> None:
    """The webhook receiver and loader; with the sandbox set to push (`[sandbox] webhook_url`),
    the sandbox's sender too. Deliveries spooled while the app was down are loaded now."""
    try:
        rt.webhooks = webhooks_mod.start(rt.config)
    except OSError as e:  # the port is taken (another Tower?): run on polling alone, say so
        log.error("webhook receiver not started (%s): sources are polled only", e)
        return
    if rt.webhooks is None:
        return
    rt.webhooks.start_loader(rt.db)
    target = rt.config.sandbox.webhook_url
    if rt.sandbox is not None and target:
        target = target.replace("{webhooks}", rt.webhooks.url + "/webhooks")
        shopify = next((s for s in rt.config.sources.values() if webhooks_mod.vendor(s.kind) == "shopify"), None)
        track17 = next((n for n, s in rt.config.sources.items() if s.kind == "track17"), None)
        rt.webhook_sender = WebhookSender(
            rt.sandbox.world, rt.clock, target, inventory_shop=shopify.options.get("inventory_shop") if shopify else None,
            track17_source=track17,
            duplicate_rate=rt.config.sandbox.webhook_duplicate_rate, retries=rt.config.sandbox.webhook_retries,
            seed=rt.config.sandbox.seed)
        rt.webhook_sender.start()
        log.info("sandbox pushes webhooks to %s", target)


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
