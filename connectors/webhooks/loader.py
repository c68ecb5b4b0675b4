"""The webhook loader: a thread of the app (the database's single owner) that moves spooled
deliveries into DuckDB within a fraction of a second.

Woken by the receiver after each stored delivery (and every `poll_s` anyway, which also picks up
deliveries left by a killed process), it takes up to `batch` files, maps each with
connectors.webhooks.apply, and writes them in one transaction with the pollers' bulk upserts plus
one webhook_events row per delivery id; only after the commit are the files removed. Copies of one
delivery id (a vendor's retries, each its own spool file) are applied once and counted in
`deliveries`; an id already in webhook_events only counts. If the
batch transaction fails, each delivery is retried alone; one that still fails is recorded as
`failed` and its file set aside in `<spool>/failed/`. After a pass that loaded something, the
`after_load` callbacks run on the loader thread (keep them cheap: connectors.webhooks.Webhooks
hands them to a Debounced thread).
"""
from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone

import duckdb

from connectors.records import Run, Table
from connectors.runs import _WRITE_LOCK
from connectors.webhooks import apply
from connectors.webhooks.receiver import Rejections
from connectors.webhooks.spool import Delivery, Spool
from connectors.writes import upsert
from queries import load as load_sql
from tower import foreground

log = logging.getLogger("tower.webhooks")
EVENTS = Table("webhook_events", ("source", "delivery_id"), "append", None)
ERROR_CHARS = 300


def _now() -> datetime:
    return datetime.now(timezone.utc)


class WebhookLoader:
    def __init__(self, db, spool: Spool, *, shops: set[str] | None = None, rejections: Rejections | None = None,
                 poll_s: float = 0.2, batch: int = 500):
        self.db = db
        self.spool = spool
        self.shops = set(shops or ())
        self.rejections = rejections
        self.poll_s = poll_s
        self.batch = batch
        self.loaded = 0
        self.after_load: list[Callable[[], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ── lifecycle ───────────────────────────────────────────────────────────────────────────────
    def notify(self) -> None:
        """A delivery was stored: load now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="tower-webhooks-loader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            try:
                before = self.loaded
                while not self._stop.is_set():
                    foreground.shared.wait_quiet()  # a batch starts after the screens' tick
                    if self._stop.is_set() or not self.load_pending():
                        break
                if self.loaded > before:
                    self._after_load()
                self.flush_rejections()
            except Exception:  # the loop must survive anything; the files stay for the next pass
                log.exception("webhook loader pass failed")
                self._stop.wait(1.0)

    def _after_load(self) -> None:
        for callback in list(self.after_load):
            try:
                callback()
            except Exception:  # a listener must not stop the loading
                log.exception("after_load callback %r failed", callback)

    # ── one pass ────────────────────────────────────────────────────────────────────────────────
    def load_pending(self) -> int:
        """Load up to `batch` spooled deliveries; returns how many files were handled."""
        paths = self.spool.pending(self.batch)
        deliveries: list[Delivery] = []
        for path in paths:
            try:
                deliveries.append(self.spool.read(path))
            except FileNotFoundError:
                continue
            except (ValueError, KeyError, TypeError) as e:  # a damaged file: keep it aside, go on
                log.error("webhook spool file %s unreadable (%s): set aside", path.name, e)
                self.spool.set_aside(path)
        if not deliveries:
            return 0
        try:
            self._write(deliveries)
        except Exception as e:  # noqa: BLE001 - one bad delivery must not hold back the others
            log.warning("webhook batch of %d failed (%s); loading one by one", len(deliveries), e)
            for d in deliveries:
                try:
                    self._write([d])
                except duckdb.TransactionException as one:  # a write conflict: the next pass retries
                    log.warning("webhook %s/%s: %s; retrying", d.source, d.delivery_id, one)
                except Exception as one:  # noqa: BLE001
                    self._record_failed(d, f"{type(one).__name__}: {one}")
        return len(paths)

    def _mapped(self, deliveries: list[Delivery]) -> list[tuple[Delivery, dict, str, str | None]]:
        """(delivery, rows per table, status, error) for each delivery."""
        maps = apply.Mappings(Run("webhooks", {}, _now(), db=self.db), shops=self.shops)
        out = []
        for d in deliveries:
            run = Run(d.source, {}, _now(), db=self.db)
            try:
                out.append((d, apply.rows_for(d, run, maps), "loaded", None))
            except apply.Skip as e:
                out.append((d, {}, "skipped", str(e)[:ERROR_CHARS]))
            except apply.Invalid as e:
                out.append((d, {}, "invalid", str(e)[:ERROR_CHARS]))
        return out

    def _write(self, deliveries: list[Delivery]) -> None:
        copies = Counter((d.source, d.delivery_id) for d in deliveries)
        first: dict[tuple[str, str], Delivery] = {}
        for d in deliveries:
            first.setdefault((d.source, d.delivery_id), d)
        mapped = self._mapped(list(first.values()))
        loaded_at = _now()
        cur = self.db.cursor()
        try:
            with _WRITE_LOCK:
                cur.begin()
                try:
                    ids = [i for _, i in first]
                    seen = {(s, i) for s, i in cur.execute(load_sql("webhooks/seen"), {"ids": ids}).fetchall()}
                    fresh = [m for m in mapped if (m[0].source, m[0].delivery_id) not in seen]
                    # grouped by the columns rows carry: a row that leaves a column out (a 17TRACK
                    # push has no created_at) batched with rows that carry it would blank it
                    by_table: dict[tuple[str, Table, tuple], list[dict]] = defaultdict(list)
                    for d, rows, _, _ in fresh:
                        for table in apply.TABLES.get(d.kind, ()):
                            for row in rows.get(table.name, []):
                                by_table[(table.name, table, tuple(sorted(row)))].append(row)
                    for (_, table, _), rows in by_table.items():
                        if rows:
                            upsert(cur, table, rows)
                    upsert(cur, EVENTS, [{
                        "source": d.source, "delivery_id": d.delivery_id, "topic": d.topic,
                        "received_at": d.received_at, "loaded_at": loaded_at, "status": status,
                        "error": error, "rows_mapped": sum(len(v) for v in rows.values()),
                        "deliveries": copies[(d.source, d.delivery_id)],
                    } for d, rows, status, error in fresh])
                    again = defaultdict(dict)
                    for source, delivery_id in seen & copies.keys():
                        again[source][delivery_id] = copies[(source, delivery_id)]
                    for source, counted in again.items():
                        cur.execute(load_sql("webhooks/redelivered"), {
                            "source": source, "ids": list(counted), "copies": list(counted.values())})
                    cur.commit()
                except BaseException:
                    cur.rollback()
                    raise
        finally:
            cur.close()
        for d in deliveries:
            self.spool.done(d.path)
        self.loaded += sum(1 for m in fresh if m[2] == "loaded")

    def _record_failed(self, d: Delivery, error: str) -> None:
        log.error("webhook %s/%s could not be loaded: %s", d.source, d.delivery_id, error)
        cur = self.db.cursor()
        try:
            with _WRITE_LOCK:
                upsert(cur, EVENTS, [{"source": d.source, "delivery_id": d.delivery_id, "topic": d.topic,
                                      "received_at": d.received_at, "loaded_at": _now(), "status": "failed",
                                      "error": error[:ERROR_CHARS], "rows_mapped": 0, "deliveries": 1}])
        finally:
            cur.close()
        self.spool.set_aside(d.path)

    def flush_rejections(self) -> None:
        """Add the receiver's refused-signature counts to webhook_rejections."""
        if self.rejections is None:
            return
        taken = self.rejections.take()
        if not taken:
            return
        cur = self.db.cursor()
        try:
            with _WRITE_LOCK:
                for source, (n, at, reason) in taken.items():
                    cur.execute(load_sql("webhooks/rejections_add"),
                                {"source": source, "n": n, "at": at, "reason": reason})
        finally:
            cur.close()
