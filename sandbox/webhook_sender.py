"""The sandbox pushes signed webhooks as the vendors do, while polling keeps working.

Every `tick_s` the sender looks at the world as of now; when a tracking, order, inventory level or
return has a new version (the world changes in 5-minute simulated steps), it POSTs the record to the
receiver in the vendor's webhook shape, signed with the webhook secret (the sandbox token):
- AfterShip Tracking → `<base>/aftership`: `{event: tracking_update, event_id, is_tracking_first_tag,
  msg: <tracking>, ts}`, header `aftership-hmac-sha256`.
- AfterShip Returns → `<base>/returns`: `{id, event: return.submitted|return.updated, created_at,
  version, data: <return>}`, header `as-signature-hmac-sha256`.
- Shopify → `<base>/shopify`: the order (`orders/create`, `orders/updated`) or the inventory level
  (`inventory_levels/update`) as the body; headers `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256`,
  `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`, `X-Shopify-Webhook-Id`, `X-Shopify-Event-Id`,
  `X-Shopify-Triggered-At`.
- 17TRACK (only when a track17 source is named, `track17_source`) → `<base>/<that name>`: for each
  outbound parcel (the sandbox's 17TRACK account holds those) `{event: TRACKING_UPDATED, data:
  {number, carrier, param, tag, order_no, track_info}}`, header `sign` = hex SHA-256 of
  `<raw body>/<17token>` (17TRACK signs with the account's API key; no delivery id header).
Other signatures are base64(HMAC-SHA256(secret, raw body)). A delivery that fails (no answer, non-2xx) is
retried with exponential backoff up to `retries` times; a share (`duplicate_rate`) of successful
deliveries is sent again a moment later with the same id, as vendors redeliver. The state present
when the sender starts is history: only later changes are pushed.
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import requests

from sandbox.formats import aftership, returns, shopify, track17
from tower.config import SANDBOX_TOKEN

log = logging.getLogger("tower.sandbox.webhooks")
NAMESPACE = uuid.UUID("5f0c7d4e-2b1a-4c55-9a3e-7e0f3c1d2a10")
RETURNS_VERSION = "2025-07"


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _id(*parts) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts))


def _body(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass
class Outgoing:
    """One webhook delivery: where it goes, its headers and its exact body (signed as is)."""
    path: str            # aftership | returns | shopify | the 17TRACK source (appended to the base URL)
    delivery_id: str
    headers: dict
    body: bytes
    attempts: int = 0


def tracking_webhook(t, now: datetime, secret: str = SANDBOX_TOKEN) -> Outgoing:
    event_id = str(_id("tracking", t.id, t.updated_at.isoformat()))
    body = _body({"event": "tracking_update", "event_id": event_id, "is_tracking_first_tag": False,
                  "msg": aftership.tracking_json(t, now), "ts": int(now.timestamp())})
    return Outgoing("aftership", event_id, {"Content-Type": "application/json",
                                            "aftership-hmac-sha256": sign(secret, body)}, body)


def return_webhook(r, now: datetime, secret: str = SANDBOX_TOKEN, first: bool = False) -> Outgoing:
    rid = _id("return", r.rma_number, r.updated_at.isoformat()).hex  # UUID without dashes
    body = _body({"id": rid, "event": "return.submitted" if first else "return.updated",
                  "created_at": now.isoformat(), "version": RETURNS_VERSION,
                  "data": returns.return_json(r)})
    return Outgoing("returns", rid, {"Content-Type": "application/json",
                                     "as-signature-hmac-sha256": sign(secret, body)}, body)


def shopify_webhook(topic: str, shop: str, payload: dict, version_key: str, now: datetime,
                    secret: str = SANDBOX_TOKEN) -> Outgoing:
    webhook_id = str(_id("shopify", shop, topic, version_key))
    body = _body(payload)
    headers = {
        "Content-Type": "application/json", "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body), "X-Shopify-Shop-Domain": f"{shop}.myshopify.com",
        "X-Shopify-API-Version": shopify.API_VERSION, "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": str(_id("shopify-event", shop, topic, version_key)),
        "X-Shopify-Triggered-At": now.isoformat(),
    }
    return Outgoing("shopify", webhook_id, headers, body)


def track17_sign(secret: str, body: bytes) -> str:
    """17TRACK's push signature: sha256 hex of the raw body, "/", the API key."""
    return hashlib.sha256(body + b"/" + secret.encode()).hexdigest()


def track17_webhook(t, path: str, secret: str = SANDBOX_TOKEN) -> Outgoing:
    body = _body({"event": "TRACKING_UPDATED", "data": {
        "number": t.tracking_number, "carrier": track17.CARRIER_CODES.get(t.slug, 0), "param": None,
        "tag": t.warehouse_id, "order_no": None if t.order_id is None else str(t.order_id),
        "track_info": track17.track_info(t)}})
    return Outgoing(path, hashlib.sha256(body).hexdigest(), {"Content-Type": "application/json",
                                                            "sign": track17_sign(secret, body)}, body)


@dataclass
class SenderStats:
    sent: int = 0          # successful deliveries (2xx), redeliveries included
    failed: int = 0        # attempts that got no 2xx
    gave_up: int = 0       # deliveries dropped after the last retry (polling reconciles)
    duplicated: int = 0    # deliveries sent again on purpose
    statuses: dict = field(default_factory=dict)


class WebhookSender:
    def __init__(self, world, clock, base_url: str, *, secret: str = SANDBOX_TOKEN,
                 inventory_shop: str | None = None, track17_source: str | None = None, duplicate_rate: float = 0.02, retries: int = 5,
                 backoff_s: float = 0.5, tick_s: float = 0.25, timeout_s: float = 5.0, seed: int = 7):
        self.world = world
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.inventory_shop = inventory_shop or (world.merchants[0].shop if world.merchants else None)
        self.track17_source = track17_source
        self.duplicate_rate = duplicate_rate
        self.retries = retries
        self.backoff_s = backoff_s
        self.tick_s = tick_s
        self.timeout_s = timeout_s
        self.stats = SenderStats()
        self._rng = random.Random(seed)
        self._queue: list[tuple[float, int, Outgoing]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._versions: dict[str, dict] = {}
        self._views: dict[str, object] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = requests.Session()
        self.poll_changes()  # what exists now is history, not news

    # ── change detection ────────────────────────────────────────────────────────────────────────
    def _diff(self, name: str, records, key, version) -> list[tuple[object, bool]]:
        """(record, is_new) for records whose version changed since the last look."""
        if self._views.get(name) is records:  # the world's views are cached per step: unchanged
            return []
        self._views[name] = records
        first_look = name not in self._versions
        known = self._versions.setdefault(name, {})
        changed = []
        for r in records:
            k, v = key(r), version(r)
            if known.get(k) != v:
                if not first_look:
                    changed.append((r, k not in known))
                known[k] = v
        return changed

    def poll_changes(self) -> int:
        """Queue a webhook for every record version that appeared since the last call."""
        now = self.clock.now()
        out: list[Outgoing] = []
        for t, _ in self._diff("trackings", self.world.trackings(now), lambda t: t.id, lambda t: t.updated_at):
            out.append(tracking_webhook(t, now, self.secret))
            if self.track17_source and t.direction == "outbound":
                out.append(track17_webhook(t, self.track17_source, self.secret))
        for r, new in self._diff("returns", self.world.returns(now), lambda r: r.rma_number,
                                 lambda r: r.updated_at):
            out.append(return_webhook(r, now, self.secret, first=new))
        for m in self.world.merchants:
            zone = shopify.shop_zone(m)
            changed = self._diff(f"orders@{m.shop}", self.world.orders(now, m.shop),
                                 lambda o: o.order_id, lambda o: o.updated_at)
            refunded = self._refunded(m.shop, now) if changed else {}
            for o, new in changed:
                payload = shopify.order_json(o, zone, refunded.get(o.order_id, 0.0))
                topic = "orders/create" if new else "orders/updated"
                out.append(shopify_webhook(topic, m.shop, payload, f"order:{o.order_id}:{o.updated_at.isoformat()}",
                                           now, self.secret))
            if m.shop == self.inventory_shop:
                for lv, _ in self._diff("inventory_levels", self.world.inventory_levels(now),
                                        lambda lv: (lv.inventory_item_id, lv.location_id), lambda lv: lv.updated_at):
                    out.append(shopify_webhook(
                        "inventory_levels/update", m.shop, shopify.inventory_level_json(lv, zone),
                        f"level:{lv.inventory_item_id}:{lv.location_id}:{lv.updated_at.isoformat()}", now, self.secret))
        for o in out:
            self.enqueue(o)
        return len(out)

    def _refunded(self, shop: str, now: datetime) -> dict:
        refunded: dict[int, float] = {}
        for r in self.world.returns(now):
            if r.refunded_at is not None and r.shop == shop:
                refunded[r.order_id] = refunded.get(r.order_id, 0.0) + r.return_total
        return refunded

    # ── delivery ────────────────────────────────────────────────────────────────────────────────
    def enqueue(self, out: Outgoing, delay_s: float = 0.0) -> None:
        with self._lock:
            heapq.heappush(self._queue, (time.monotonic() + delay_s, next(self._seq), out))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def deliver_due(self) -> int:
        """Send every queued delivery due now (retries scheduled meanwhile wait for the next call);
        returns how many were attempted."""
        n, now = 0, time.monotonic()
        while True:
            with self._lock:
                if not self._queue or self._queue[0][0] > now:
                    return n
                _, _, out = heapq.heappop(self._queue)
            n += 1
            self._attempt(out)

    def _attempt(self, out: Outgoing) -> None:
        out.attempts += 1
        status = None
        try:
            resp = self._http.post(f"{self.base_url}/{out.path}", data=out.body, headers=out.headers,
                                   timeout=self.timeout_s)
            status = resp.status_code
        except requests.RequestException as e:
            log.debug("webhook %s to %s failed: %s", out.delivery_id, out.path, e)
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        if status is not None and 200 <= status < 300:
            self.stats.sent += 1
            if out.attempts == 1 and self._rng.random() < self.duplicate_rate:
                self.stats.duplicated += 1
                self.enqueue(Outgoing(out.path, out.delivery_id, out.headers, out.body, 1), delay_s=0.5)
            return
        self.stats.failed += 1
        if out.attempts > self.retries:
            self.stats.gave_up += 1
            log.warning("webhook %s to %s dropped after %d attempts", out.delivery_id, out.path, out.attempts)
            return
        self.enqueue(out, delay_s=self.backoff_s * 2 ** (out.attempts - 1))

    # ── the loop ────────────────────────────────────────────────────────────────────────────────
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self._http.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_changes()
                self.deliver_due()
            except Exception:  # the sandbox keeps serving whatever a delivery does
                log.exception("webhook sender pass failed")
            self._stop.wait(self.tick_s)
