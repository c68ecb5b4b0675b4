"""Signed webhooks: seconds from a vendor's event to a row in DuckDB (issue 11, item 2).

    hooks = connectors.webhooks.start(cfg)    # receiver listening, deliveries spooled (no DB yet)
    hooks.start_loader(db)                    # the database owner loads them, within a second
    hooks.after_load(evaluate_alerts)         # run after loads, at most once a second
    hooks.stop()

connectors.webhooks.receiver verifies and spools, connectors.webhooks.spool is the durable inbox,
connectors.webhooks.loader applies deliveries through connectors.webhooks.apply (the pollers'
mappings and upserts). Polling keeps running as reconciliation for missed deliveries.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.webhooks import settings as settings_mod
from connectors.webhooks.debounce import Debounced
from connectors.webhooks.loader import WebhookLoader
from connectors.webhooks.receiver import WebhookReceiver
from connectors.webhooks.signing import SCHEMES, vendor
from connectors.webhooks.spool import Spool

log = logging.getLogger("tower.webhooks")


class Webhooks:
    """The receiver (own port) and, once the database is open, the loader."""

    def __init__(self, cfg, spool_dir=None):
        self.cfg = cfg
        self.settings = settings_mod.settings(cfg)
        self.spool = Spool(spool_dir or cfg.data_dir / self.settings.spool)
        self.loader: WebhookLoader | None = None
        self._listeners: list[Debounced] = []
        sources = {name: vendor(s.kind) for name, s in cfg.sources.items()}
        self.receiver = WebhookReceiver(
            sources, lambda name: settings_mod.secret(cfg, name), self.spool,
            host=self.settings.host, port=self.settings.port, max_body_bytes=self.settings.max_body_bytes,
            on_stored=self._stored)

    @property
    def url(self) -> str:
        return self.receiver.url

    def _stored(self) -> None:
        if self.loader is not None:
            self.loader.notify()

    def start_loader(self, db) -> WebhookLoader | None:
        """Start loading into `db` (unless `[webhooks] loader = false`)."""
        shops = set()
        for s in self.cfg.sources.values():
            if vendor(s.kind) == "shopify":
                shops.update(s.options.get("shops") or ())
        self.loader = WebhookLoader(db, self.spool, shops=shops, rejections=self.receiver.rejections,
                                    poll_s=self.settings.poll_s)
        if self.settings.loader:
            self.loader.start()
        return self.loader

    def after_load(self, callback: Callable[[], bool | None], min_interval_s: float = 1.0) -> Debounced:
        """Call `callback` soon after the loader loads deliveries: at once for the first batch,
        then at most once every `min_interval_s` however many arrive (on its own thread); a
        callback returning False is called again after the pause (see debounce.Debounced)."""
        if self.loader is None:
            raise RuntimeError("start_loader first")
        listener = Debounced(callback, min_interval_s, name="webhooks-after-load")
        self._listeners.append(listener)
        self.loader.after_load.append(listener.poke)
        return listener

    def stop(self) -> None:
        self.receiver.stop()
        if self.loader is not None:
            self.loader.stop()
        for listener in self._listeners:
            listener.stop()


def start(cfg, spool_dir=None) -> Webhooks | None:
    """The webhook service for `cfg`, or None when `[webhooks] enabled = false` or no configured
    source can receive webhooks."""
    if not settings_mod.settings(cfg).enabled:
        return None
    if not any(vendor(s.kind) in SCHEMES for s in cfg.sources.values()):
        return None
    hooks = Webhooks(cfg, spool_dir)
    log.info("webhook receiver at %s", hooks.url)
    return hooks


__all__ = ["Webhooks", "WebhookLoader", "WebhookReceiver", "Spool", "start"]
