"""The sandbox HTTP server: the simulated world behind real vendor API formats, on loopback.

Routing, credentials, rate limits and fault injection live here; the vendor shapes live in
`sandbox/formats/`. Everything served is "as of `clock.now()`", read once per request.

    server = start(cfg.sandbox, clock)      # serves from a daemon thread
    server.url                              # "http://127.0.0.1:8765"
    server.stop()
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from sandbox.formats import (aftership, dcsa, nps, planning, returns, shopify, shopify_graphql_ops,
                             supplier_portal, team_chat, track17)
from sandbox.formats import forwarder, supplier_actions, wms, write_api
from sandbox.formats.base import BadRequest, Query, Reply, parse_time
from sandbox.model import ScenarioWindow
from sandbox.world import World, scenario_windows
from tower.config import SANDBOX_TOKEN, SandboxConfig

log = logging.getLogger("tower.sandbox")

FAULT_KINDS = ("timeout", "429", "500", "503", "malformed", "duplicate", "out_of_order")
AFTERSHIP_RATE_PER_S = 6


# --- rate limits ----------------------------------------------------------------------------------
# Rate limits are about real request pace, so they read the wall clock (injectable for tests),
# not the simulated clock.


class WindowLimiter:
    """AfterShip style: at most `limit` requests per key in each wall-clock second."""

    def __init__(self, limit: int, wall: Callable[[], float] = time.time):
        self.limit = limit
        self._wall = wall
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (second, count)

    def hit(self, key: str) -> tuple[bool, int, int]:
        """(allowed, remaining, reset_unix) for one more request."""
        with self._lock:
            second = int(self._wall())
            start, count = self._windows.get(key, (second, 0))
            if start != second:
                start, count = second, 0
            allowed = count < self.limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
            return allowed, self.limit - count, second + 1

    def next_reset(self) -> int:
        return int(self._wall()) + 1


class LeakyBucket:
    """Shopify style: a bucket of `size` calls per key that drains `leak_per_s` calls a second."""

    def __init__(self, size: int, leak_per_s: float, wall: Callable[[], float] = time.time):
        self.size = size
        self.leak_per_s = leak_per_s
        self._wall = wall
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, at)

    def hit(self, key: str) -> tuple[bool, int, float]:
        """(allowed, calls in the bucket, seconds to wait when refused)."""
        with self._lock:
            now = self._wall()
            level, at = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - at) * self.leak_per_s)
            if level + 1 > self.size:
                self._levels[key] = (level, now)
                return False, self.size, (level + 1 - self.size) / self.leak_per_s
            level += 1
            self._levels[key] = (level, now)
            return True, int(round(level)) or 1, 0.0


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    path_prefix: str
    kind: str
    count: int
    delay_s: float = 5.0

    def to_dict(self) -> dict:
        return {
            "path_prefix": self.path_prefix,
            "kind": self.kind,
            "count": self.count,
            "delay_s": self.delay_s,
        }


class FaultBook:
    """Pending faults; each matching request consumes one unit of the first fault that matches."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
            return None


def parse_fault(body: dict) -> Fault:
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    kind = str(body.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    prefix = body.get("path_prefix", "/")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError("path_prefix must be a path starting with /")
    count, delay = body.get("count", 1), body.get("delay_s", 5)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("count must be a positive integer")
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 600:
        raise ValueError("delay_s must be a number of seconds between 0 and 600")
    return Fault(prefix, kind, count, float(delay))


def _duplicate(items: list, rng: random.Random) -> None:
    """Repeat about a third of the items (at least one), each right after itself."""
    if not items:
        return
    chosen = set(rng.sample(range(len(items)), max(1, len(items) // 3)))
    for i in sorted(chosen, reverse=True):
        items.insert(
            i + 1, json.loads(json.dumps(items[i])) if isinstance(items[i], (dict, list)) else items[i]
        )


def _shuffle(items: list, rng: random.Random) -> None:
    if len(items) < 2:
        return
    original = list(items)
    for _ in range(10):  # a shuffle that changes nothing would not be a fault
        rng.shuffle(items)
        if items != original:
            return
    items.reverse()


def apply_record_fault(reply: Reply, kind: str, rng: random.Random) -> None:
    """`duplicate` / `out_of_order` inside the page: on the records and on each record's checkpoints."""
    change = _duplicate if kind == "duplicate" else _shuffle
    reply.json = copy.deepcopy(reply.json)  # formatted records are cached and shared between replies
    if reply.csv_rows is not None:
        body = reply.csv_rows[1:]
        change(body, rng)
        reply.csv_rows[1:] = body
        return
    records = reply.records()
    if records is None:
        return
    for record in records:
        if isinstance(record, dict) and isinstance(record.get("checkpoints"), list):
            change(record["checkpoints"], rng)
    change(records, rng)


# --- vendor families ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    name: str
    authorized: Callable[[object], bool]  # (request headers) -> bool
    unauthorized: Callable[[], Reply]
    bad_request: Callable[[BadRequest], Reply]
    server_error: Callable[[], Reply]
    too_many: Callable[[], Reply]


def _header_is(name: str) -> Callable[[object], bool]:
    return lambda headers: headers.get(name, "") == SANDBOX_TOKEN


def _bearer(headers) -> bool:
    return headers.get("Authorization", "") == f"Bearer {SANDBOX_TOKEN}"


def _basic_user(headers) -> bool:
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return False
    try:
        user = base64.b64decode(value[6:], validate=True).decode().split(":", 1)[0]
    except (ValueError, UnicodeDecodeError):
        return False
    return user == SANDBOX_TOKEN


AFTERSHIP = Family(
    "aftership",
    _header_is("as-api-key"),
    aftership.unauthorized,
    aftership.bad_request,
    lambda: aftership.error(500, "Something went wrong on AfterShip's end."),
    aftership.rate_limited,
)
RETURNS = Family(
    "returns",
    _header_is("as-api-key"),
    returns.unauthorized,
    returns.bad_request,
    lambda: returns.error(500, "Something went wrong on AfterShip's end."),
    returns.rate_limited,
)
SHOPIFY = Family(
    "shopify",
    _header_is("X-Shopify-Access-Token"),
    shopify.unauthorized,
    shopify.bad_request,
    shopify.server_error,
    lambda: shopify.rate_limited(1.0),
)
SHOPIFY_GRAPHQL = Family(
    "shopify_graphql",
    _header_is("X-Shopify-Access-Token"),
    shopify.unauthorized,
    shopify.bad_request,
    shopify.server_error,
    lambda: Reply(429, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}),
)
SHOPIFY_BULK_FILE = Family(  # bulk results sit behind a signed URL: no access token
    "shopify_bulk_file", lambda headers: True, shopify.unauthorized, shopify.bad_request,
    shopify.server_error, lambda: Reply(429, {"error": "SlowDown"}),
)
PORTAL = Family(
    "supplier_portal",
    _bearer,
    supplier_portal.unauthorized,
    supplier_portal.bad_request,
    lambda: supplier_portal.error(500, "internal_error", "internal error"),
    supplier_portal.rate_limited,
)
SUPPLIER_CSV = Family(
    "supplier_csv",
    lambda headers: True,
    supplier_portal.unauthorized,
    supplier_portal.bad_request,
    lambda: Reply(500, csv_rows=[["error"], ["internal error"]]),
    supplier_portal.rate_limited,
)
NPS = Family(
    "nps",
    _basic_user,
    nps.unauthorized,
    nps.bad_request,
    lambda: Reply(500, {"status": 500, "message": "Internal Server Error"}),
    nps.rate_limited,
)
PLANNING = Family(
    "planning",
    _bearer,
    planning.unauthorized,
    planning.bad_request,
    lambda: Reply(500, csv_rows=[["error"], ["internal error"]]),
    planning.rate_limited,
)

TRACK17 = Family("track17", _header_is("17token"), track17.unauthorized, track17.bad_request,
                 track17.server_error, track17.rate_limited)
DCSA = Family("dcsa", _bearer, dcsa.unauthorized, dcsa.bad_request, dcsa.server_error, dcsa.rate_limited)

CHAT = Family("chat", lambda headers: True, lambda: team_chat.TextReply(403, text="invalid_token"),
              lambda exc: team_chat.TextReply(400, text="invalid_payload"),
              lambda: team_chat.TextReply(500, text="internal_error"),
              lambda: team_chat.TextReply(429, text="rate_limited", headers={"Retry-After": "1"}))
MESSAGING = Family("messaging", _bearer, lambda: team_chat.error(401, "unauthorized", "missing or bad token"),
                   lambda exc: team_chat.error(400, "bad_request", exc.message),
                   lambda: team_chat.error(500, "internal_error", "internal error"),
                   lambda: team_chat.error(429, "rate_limited", "slow down"))


@dataclass
class Request:
    method: str
    path: str
    query: Query
    headers: object
    body: bytes
    host: str


# --- the server -----------------------------------------------------------------------------------


class SandboxServer:
    def __init__(self, cfg: SandboxConfig, clock, world, wall: Callable[[], float] = time.time):
        self.cfg = cfg
        self.clock = clock
        self.world = world
        self.faults = FaultBook()
        self.aftership_limiter = WindowLimiter(AFTERSHIP_RATE_PER_S, wall)
        self.shopify_bucket = LeakyBucket(shopify.BUCKET_SIZE, shopify.LEAK_PER_S, wall)
        self.shopify_graphql = shopify_graphql_ops.Service(wall)
        self.inbox = team_chat.Inbox()                 # team channel + buyer messages (issue 13)
        self.scenarios: list[dict] = []
        self._stopping = threading.Event()
        self._fault_seq = 0
        self._fault_lock = threading.Lock()
        self._httpd = _HTTPServer((cfg.host, cfg.port), _Handler)
        self._httpd.sandbox = self
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="sandbox-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in a `timeout` fault
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # routes: (method, pattern, family, handler(server, match, request, now) -> Reply)
    def handle(self, req: Request) -> Reply:
        if req.path.startswith("/_sandbox/"):
            return self._control(req)
        for method, pattern, family, handler in ROUTES:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                return self._serve(family, handler, match, req)
        return Reply(404, {"errors": "Not Found", "path": req.path})

    def _serve(self, family: Family, handler, match, req: Request) -> Reply:
        fault = self.faults.take(req.path)
        if fault and fault.kind == "timeout":
            self._stopping.wait(fault.delay_s)
        if fault and fault.kind == "429":
            return self._too_many(family)
        if fault and fault.kind == "500":
            return family.server_error()
        if fault and fault.kind == "503":
            return write_api.unavailable()
        if not family.authorized(req.headers):
            return family.unauthorized()
        limited = self._rate_limit(family, match, req)
        if limited is not None and limited.status == 429:
            return limited
        now = self.clock.now()
        try:
            reply = handler(self, match, req, now)
        except BadRequest as exc:
            reply = family.bad_request(exc)
        except Exception:  # a bug in a handler answers 500 like a real API; the server keeps serving
            log.exception("sandbox handler failed for %s", req.path)
            reply = family.server_error()
        if limited is not None:
            reply.headers = {**limited.headers, **reply.headers}
        if fault and fault.kind in ("duplicate", "out_of_order") and reply.status == 200:
            apply_record_fault(reply, fault.kind, self._fault_rng())
        if fault and fault.kind == "malformed":
            reply.truncated = True
        return reply

    def _too_many(self, family: Family) -> Reply:
        """A 429 as the vendor sends it, with its rate-limit headers."""
        reply = family.too_many()
        if family in (AFTERSHIP, RETURNS):
            reset = self.aftership_limiter.next_reset()
            reply.headers.update(
                {
                    "X-RateLimit-Limit": str(self.aftership_limiter.limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                }
            )
        elif family is SHOPIFY:
            reply.headers["X-Shopify-Shop-Api-Call-Limit"] = (
                f"{self.shopify_bucket.size}/{self.shopify_bucket.size}"
            )
        return reply

    def _fault_rng(self) -> random.Random:
        with self._fault_lock:
            self._fault_seq += 1
            return random.Random(self.cfg.seed * 1_000_003 + self._fault_seq)

    def _rate_limit(self, family: Family, match, req: Request) -> Reply | None:
        """None when the family has no limit; else a Reply carrying the limit headers (429 if over)."""
        if family in (AFTERSHIP, RETURNS):
            key = f"{family.name}:{req.headers.get('as-api-key', '')}"
            allowed, remaining, reset = self.aftership_limiter.hit(key)
            headers = {
                "X-RateLimit-Limit": str(self.aftership_limiter.limit),
                "X-RateLimit-Remaining": str(max(0, remaining)),
                "X-RateLimit-Reset": str(reset),
            }
            reply = family.too_many() if not allowed else Reply(200)
            reply.headers.update(headers)
            return reply
        if family is SHOPIFY:
            key = f"{match['shop']}:{req.headers.get('X-Shopify-Access-Token', '')}"
            allowed, used, wait = self.shopify_bucket.hit(key)
            headers = {"X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.shopify_bucket.size}"}
            reply = shopify.rate_limited(max(wait, 0.1)) if not allowed else Reply(200)
            reply.headers.update(headers)
            return reply
        return None

    # --- control endpoints ---------------------------------------------------------------------
    def _control(self, req: Request) -> Reply:
        name = req.path[len("/_sandbox/") :].strip("/")
        if name == "health" and req.method == "GET":
            return Reply(200, {"ok": True})
        if name == "clock" and req.method == "GET":
            anchor = getattr(self.clock, "anchor", None)
            return Reply(
                200,
                {
                    "now": self.clock.now().isoformat(),
                    "anchor": anchor.isoformat() if anchor else None,
                    "speed": float(getattr(self.clock, "speed", 1.0)),
                },
            )
        if name == "faults":
            if req.method == "GET":
                return Reply(200, {"faults": self.faults.pending()})
            if req.method == "DELETE":
                self.faults.clear()
                return Reply(200, {"faults": []})
            if req.method == "POST":
                try:
                    fault = parse_fault(json.loads(req.body or b"{}"))
                except ValueError as exc:  # JSONDecodeError is a ValueError
                    return Reply(400, {"error": str(exc)})
                self.faults.add(fault)
                return Reply(201, {"fault": fault.to_dict(), "faults": self.faults.pending()})
        if name == "shopify-graphql":
            return self.shopify_graphql.control(req.method, req.body)
        if name == "scenarios":
            if req.method == "GET":
                return Reply(200, {"scenarios": self.scenarios})
            if req.method == "POST":
                try:
                    windows = self._parse_scenarios(json.loads(req.body or b"{}"))
                    self.world.set_scenarios(windows)
                except (ValueError, TypeError, KeyError, BadRequest) as exc:
                    return Reply(400, {"error": str(exc)})
                self.scenarios = [
                    {
                        "name": w.name,
                        "starts_at": w.starts_at.isoformat(),
                        "ends_at": w.ends_at.isoformat() if w.ends_at else None,
                    }
                    for w in windows
                ]
                return Reply(200, {"scenarios": self.scenarios})
        return Reply(404, {"error": f"no control endpoint {req.method} {req.path}"})

    def _parse_scenarios(self, body) -> list[ScenarioWindow]:
        if not isinstance(body, dict) or not isinstance(body.get("scenarios"), list):
            raise ValueError('body must be {"scenarios": [{"name", "starts_at", "ends_at"}]}')
        now = self.clock.now()
        windows = []
        for item in body["scenarios"]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValueError("each scenario needs a name")
            starts = parse_time(item["starts_at"], "starts_at") if item.get("starts_at") else now
            ends = parse_time(item["ends_at"], "ends_at") if item.get("ends_at") else None
            if ends is not None and ends <= starts:
                raise ValueError(f"scenario {item['name']}: ends_at must be after starts_at")
            windows.append(ScenarioWindow(item["name"], starts, ends, dict(item.get("params") or {})))
        return windows


# --- route handlers -------------------------------------------------------------------------------


def _merchant(server: SandboxServer, shop: str):
    return next((m for m in server.world.merchants if m.shop == shop), None)


def _shopify(server, match, req, now) -> Reply:
    merchant = _merchant(server, match["shop"])
    endpoint = shopify.ENDPOINTS.get(match["resource"])
    if merchant is None or endpoint is None:
        return shopify.not_found()
    base_url = f"http://{req.host}/shopify/{merchant.shop}/admin/api/{shopify.API_VERSION}"
    reply = endpoint(server.world, merchant, now, req.query, base_url)
    reply.headers["X-Shopify-API-Version"] = shopify.API_VERSION
    return reply


def _shopify_graphql(server, match, req, now) -> Reply:
    merchant = _merchant(server, match["shop"])
    if merchant is None:
        return shopify.not_found()
    reply = server.shopify_graphql.execute(server.world, merchant, now, req.body, req.host)
    reply.headers["X-Shopify-API-Version"] = match["version"]
    return reply


def _planning(server, match, req, now) -> Reply:
    endpoint = planning.ENDPOINTS.get(match["name"])
    if endpoint is None:
        return Reply(404, csv_rows=[["error"], [f"no planning file {match['name']}.csv"]])
    return endpoint(server.world, now, req.query)


# issue 13: the write APIs (forwarder bookings, WMS transfers); supplier POs use PORTAL's token
WRITE_API = Family("write_api", _bearer, write_api.unauthorized, write_api.bad_request, write_api.server_error,
                   write_api.rate_limited)

ROUTES = [
    (
        "GET",
        re.compile(r"/tracking/2026-07/trackings"),
        AFTERSHIP,
        lambda s, m, r, now: aftership.list_trackings(s.world, now, r.query),
    ),
    (
        "GET",
        re.compile(r"/tracking/2026-07/trackings/(?P<id>[^/]+)"),
        AFTERSHIP,
        lambda s, m, r, now: aftership.get_tracking(s.world, now, m["id"]),
    ),
    (
        "GET",
        re.compile(r"/shopify/(?P<shop>[^/]+)/admin/api/2025-07/(?P<resource>\w+)\.json"),
        SHOPIFY,
        _shopify,
    ),
    (
        "POST",
        re.compile(r"/shopify/(?P<shop>[^/]+)/admin/api/(?P<version>\d{4}-\d{2})/graphql\.json"),
        SHOPIFY_GRAPHQL,
        _shopify_graphql,
    ),
    (
        "GET",
        re.compile(r"/shopify/(?P<shop>[^/]+)/bulk/(?P<op>\d+)\.jsonl"),
        SHOPIFY_BULK_FILE,
        lambda s, m, r, now: s.shopify_graphql.download(m["shop"], int(m["op"]), r.query.get("expires")),
    ),
    (
        "GET",
        re.compile(r"/supplier-portal/v1/suppliers"),
        PORTAL,
        lambda s, m, r, now: supplier_portal.suppliers(s.world, now, r.query),
    ),
    (
        "GET",
        re.compile(r"/supplier-portal/v1/purchase_orders"),
        PORTAL,
        lambda s, m, r, now: supplier_portal.purchase_orders(s.world, now, r.query),
    ),
    (
        "GET",
        re.compile(r"/supplier-files/(?P<code>[^/]+)/progress\.csv"),
        SUPPLIER_CSV,
        lambda s, m, r, now: supplier_portal.progress_csv(s.world, now, m["code"]),
    ),
    (
        "GET",
        re.compile(r"/returns/2025-07/returns"),
        RETURNS,
        lambda s, m, r, now: returns.list_returns(s.world, now, r.query),
    ),
    (
        "GET",
        re.compile(r"/delighted/v1/survey_responses\.json"),
        NPS,
        lambda s, m, r, now: nps.survey_responses(s.world, now, r.query),
    ),
    (
        "GET",
        re.compile(r"/delighted-csat/v1/survey_responses\.json"),
        NPS,
        lambda s, m, r, now: nps.survey_responses(s.world, now, r.query, survey="csat"),
    ),
    ("GET", re.compile(r"/planning/(?P<name>\w+)\.csv"), PLANNING, _planning),
    # 17TRACK v2.4 and DCSA Track & Trace 2.2 (sandbox/formats/track17.py, dcsa.py)
    ("POST", re.compile(r"/track/v2\.4/register"), TRACK17, lambda s, m, r, now: track17.register(s.world, now, r.body)),
    ("POST", re.compile(r"/track/v2\.4/gettracklist"), TRACK17,
     lambda s, m, r, now: track17.track_list(s.world, now, r.body)),
    ("POST", re.compile(r"/track/v2\.4/gettrackinfo"), TRACK17,
     lambda s, m, r, now: track17.track_info_reply(s.world, now, r.body)),
    ("GET", re.compile(r"/dcsa/v2/events"), DCSA,
     lambda s, m, r, now: dcsa.list_events(s.world, now, r.query, f"http://{r.host}/dcsa/v2/events")),
    # issue 13: writes (sandbox/formats/supplier_actions.py, forwarder.py, wms.py)
    ("POST", re.compile(r"/supplier-portal/v1/purchase_orders"), PORTAL,
     lambda s, m, r, now: supplier_actions.create_po(s.world, now, r.headers, r.body)),
    ("POST", re.compile(r"/supplier-portal/v1/purchase_orders/(?P<po>[^/]+)/cancel"), PORTAL,
     lambda s, m, r, now: supplier_actions.cancel_po(s.world, now, m["po"])),
    ("GET", re.compile(r"/supplier-portal/v1/capacity"), PORTAL,
     lambda s, m, r, now: supplier_actions.capacity(s.world, now, r.query)),
    ("POST", re.compile(r"/forwarder/v1/bookings"), WRITE_API,
     lambda s, m, r, now: forwarder.create_booking(s.world, now, r.headers, r.body)),
    ("GET", re.compile(r"/forwarder/v1/bookings/(?P<id>[^/]+)"), WRITE_API,
     lambda s, m, r, now: forwarder.get_booking(s.world, now, m["id"])),
    ("POST", re.compile(r"/forwarder/v1/bookings/(?P<id>[^/]+)/cancel"), WRITE_API,
     lambda s, m, r, now: forwarder.cancel_booking(s.world, now, m["id"])),
    ("POST", re.compile(r"/wms/v1/transfers"), WRITE_API,
     lambda s, m, r, now: wms.create_transfer(s.world, now, r.headers, r.body)),
    ("GET", re.compile(r"/wms/v1/transfers/(?P<id>[^/]+)"), WRITE_API,
     lambda s, m, r, now: wms.get_transfer(s.world, now, m["id"])),
    # Team channel (Slack incoming-webhook shape) and buyer messages (sandbox/formats/team_chat.py)
    ("POST", re.compile(r"/chat/hooks/(?P<channel>[^/]+)"), CHAT,
     lambda s, m, r, now: s.inbox.post_hook(m["channel"], r.body, now)),
    ("GET", re.compile(r"/chat/hooks/(?P<channel>[^/]+)/messages"), CHAT,
     lambda s, m, r, now: s.inbox.messages(m["channel"])),
    ("POST", re.compile(r"/messaging/v1/messages"), MESSAGING,
     lambda s, m, r, now: s.inbox.send_buyer_message(s.world, r.body, r.headers.get("Idempotency-Key"), now)),
]


# --- HTTP plumbing --------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connectors reuse connections like with a real API
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms ACK stalls
    server_version = "TowerSandbox/1.0"
    server: _HTTPServer

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(
            self.command,
            parts.path,
            Query(parse_qs(parts.query, keep_blank_values=True)),
            self.headers,
            body,
            self.headers.get("Host") or self.server.sandbox.url[7:],
        )
        try:
            reply = self.server.sandbox.handle(req)
        except Exception:  # never let one request take the server down
            log.exception("sandbox failed on %s %s", self.command, self.path)
            reply = Reply(500, {"error": "internal sandbox error"})
        payload = reply.body()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. a timeout fault)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _dispatch

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)


def start(cfg: SandboxConfig, clock, world=None) -> SandboxServer:
    """Serve the sandbox on cfg.host:cfg.port (port 0 = any free port) from a daemon thread."""
    if world is None:
        world = World(
            seed=cfg.seed,
            clock=clock,
            history_days=cfg.history_days,
            scenarios=scenario_windows(list(cfg.scenarios), clock.now()),
        )
    return SandboxServer(cfg, clock, world)
