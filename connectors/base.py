"""The shared base of every connector, `Source`. Its parts live beside it: connectors.http (HTTP with
retries and pacing), connectors.records (tables, payload validation, what a run collects),
connectors.writes (bulk upserts by write mode) and connectors.runs (one run and its run log).

A source subclass declares its target tables (primary key, write mode, version column) and implements
`extract(run, http)`: fetch pages, validate records, map them to rows with `run.emit(table, row)` and
move its cursors with `run.set_cursor(resource, value)`. `sync()` does the rest:

1. a `running` row in `sync_runs`, in its own transaction (so a crashed run is visible);
2. extraction: everything fetched and mapped in memory, nothing written yet;
3. one transaction: every table upserted in bulk (Arrow table → deduplicated on the key → `insert …
   by name … on conflict`) plus the new cursors, then commit. Any failure rolls it all back, so a
   failed run changes nothing, a repeated run adds nothing (upserts), and a process killed mid-run
   leaves the previous committed state, which the next run completes;
4. the run row updated with ok / partial (some records rejected) / failed and its counts.
"""
from __future__ import annotations

import abc
import threading
from typing import ClassVar

import requests

from connectors.http import Cancelled, Http, HttpError, HttpPolicy, Transient, retry_after_s
from connectors.records import Instant, Record, Run, RunResult, Table, sql
from connectors.runs import sync
from connectors.writes import to_arrow, upsert

# The names connectors and tests use, whichever module now holds them.
__all__ = ["Cancelled", "Http", "HttpError", "HttpPolicy", "Instant", "Record", "Run", "RunResult",
           "Source", "Table", "Transient", "retry_after_s", "sql", "sync", "to_arrow", "upsert"]


class Source(abc.ABC):
    """A configured source. Subclasses set `kind`, `tables` and implement `extract`."""

    kind: ClassVar[str] = ""
    tables: ClassVar[tuple[Table, ...]] = ()
    secret_key: ClassVar[str] = "api_key"

    def __init__(self, source_cfg, config):
        self.name = source_cfg.name
        self.cfg = source_cfg
        self.options = dict(source_cfg.options)
        self.config = config
        self.policy = HttpPolicy.from_options(self.options)

    def secret(self) -> str | None:
        return self.config.secret(self.name, self.secret_key)

    def http_headers(self, secret: str | None) -> dict:
        return {}

    def http_auth(self, secret: str | None):
        return None

    def on_response(self, resp: requests.Response, sleep) -> None:
        """Hook after each response. By default, pace on the common `X-RateLimit-Remaining` /
        `X-RateLimit-Reset` pair (AfterShip's): with the window used up, wait for its reset rather
        than spend a retry on a 429. Shopify overrides this with its call-limit bucket."""
        if resp.headers.get("X-RateLimit-Remaining", "").strip() == "0":
            wait = retry_after_s(resp)
            if wait:
                sleep(min(wait, self.policy.max_backoff_s))

    def make_http(self, cancel: threading.Event | None = None) -> Http:
        secret = self.secret()
        return Http(self.policy, headers=self.http_headers(secret), auth=self.http_auth(secret),
                    secrets=[secret] if secret else [], cancel=cancel, on_response=self.on_response)

    @abc.abstractmethod
    def extract(self, run: Run, http: Http) -> None:
        """Fetch, validate and map records into `run` (emit rows, move cursors)."""

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)
