"""The webhook receiver: a small HTTP server, started with the app on its own port (default 8502).

    POST /webhooks/<source name>     for configured sources of kind shopify, aftership, returns or track17

Order of checks, so that nothing unverified is ever stored: unknown path → 404; no Content-Length →
411; body over `max_body_bytes` → 413 (refused from the header, the body is never read); signature
over the raw body missing or wrong → 401, counted per source (`rejections`); a verified body
without a delivery id → 400; otherwise the delivery is written durably to the spool and only then
answered 200. A redelivery is answered 200 too (the loader applies it once and counts it). A spool that
cannot be written answers 503, so the vendor retries.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from connectors.webhooks import signing
from connectors.webhooks.spool import Delivery, Spool

log = logging.getLogger("tower.webhooks")
PATH = re.compile(r"/webhooks/(?P<source>[A-Za-z0-9_\-]{1,64})/?")
KEPT_HEADERS = ("X-Shopify-Shop-Domain", "X-Shopify-Topic", "X-Shopify-Triggered-At",
                "X-Shopify-Event-Id", "X-Shopify-API-Version")


class Rejections:
    """Refused deliveries per source since the last `take()` (the loader adds them to DuckDB)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, list] = {}

    def add(self, source: str, reason: str) -> None:
        with self._lock:
            entry = self._counts.setdefault(source, [0, None, None])
            entry[0] += 1
            entry[1], entry[2] = datetime.now(timezone.utc), reason

    def take(self) -> dict[str, tuple[int, datetime, str]]:
        with self._lock:
            out = {s: tuple(v) for s, v in self._counts.items()}
            self._counts.clear()
            return out


class WebhookReceiver:
    def __init__(self, sources: dict[str, str], secrets: Callable[[str], str | None], spool: Spool, *,
                 host: str = "127.0.0.1", port: int = 8502, max_body_bytes: int = 1_000_000,
                 on_stored: Callable[[], None] | None = None):
        """`sources`: source name → kind (only kinds with a signing scheme are served);
        `secrets(name)`: that source's webhook secret (read per request, so a rotated one applies)."""
        self.sources = {n: k for n, k in sources.items() if k in signing.SCHEMES}
        self.secrets = secrets
        self.spool = spool
        self.max_body_bytes = max_body_bytes
        self.on_stored = on_stored or (lambda: None)
        self.rejections = Rejections()
        self.stored = 0
        self.spool.clear_partial()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.receiver = self
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="tower-webhooks-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def endpoint(self, source: str) -> str:
        return f"{self.url}/webhooks/{source}"

    # ── one request ─────────────────────────────────────────────────────────────────────────────
    def accept(self, source: str, headers, read_body: Callable[[int], bytes]) -> tuple[int, dict]:
        kind = self.sources.get(source)
        if kind is None:
            return 404, {"error": "no such webhook endpoint"}
        try:
            length = int(headers.get("Content-Length", ""))
        except ValueError:
            return 411, {"error": "Content-Length required"}
        if length < 0:
            return 400, {"error": "bad Content-Length"}
        if length > self.max_body_bytes:
            return 413, {"error": f"body over {self.max_body_bytes} bytes"}
        body = read_body(length)
        scheme = signing.SCHEMES[kind]
        problem = signing.check(scheme, self.secrets(source), body, headers)
        if problem:
            self.rejections.add(source, problem)
            log.warning("webhook to %s refused: %s", source, problem)
            return 401, {"error": "invalid signature"}
        try:
            delivery_id, topic = signing.identify(scheme, headers, body)
        except signing.BadPayload as e:
            return 400, {"error": str(e)}
        kept = {h: headers.get(h) for h in KEPT_HEADERS if headers.get(h) is not None}
        delivery = Delivery(source, kind, delivery_id, topic, datetime.now(timezone.utc), body, kept)
        try:
            fresh = self.spool.put(delivery)
        except OSError as e:  # disk full, permissions …: not stored, so not acknowledged
            log.error("webhook spool write failed: %s", e)
            return 503, {"error": "cannot store the delivery now"}
        self.stored += fresh
        self.on_stored()  # a redelivery is a file too: the loader counts it
        return 200, {"ok": True, "stored": fresh}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    receiver: WebhookReceiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "TowerWebhooks/1.0"
    timeout = 15  # seconds a client may stall mid-request before its connection is dropped
    server: _HTTPServer

    def do_POST(self):  # noqa: N802 - the stdlib's name
        match = PATH.fullmatch(self.path.split("?", 1)[0])
        read = False

        def read_body(n: int) -> bytes:
            nonlocal read
            read = True
            return self.rfile.read(n) if n else b""

        if match is None:
            status, reply = 404, {"error": "no such webhook endpoint"}
        else:
            try:
                status, reply = self.server.receiver.accept(match["source"], self.headers, read_body)
            except Exception:  # never let one request take the receiver down
                log.exception("webhook receiver failed on %s", self.path)
                status, reply = 500, {"error": "internal error"}
        if not read:  # the body was never read: the connection cannot carry another request
            self.close_connection = True
        self._send(status, reply)

    def _other(self):
        self.close_connection = True
        self._send(405, {"error": "POST only"})

    do_GET = do_PUT = do_DELETE = do_PATCH = _other

    def _send(self, status: int, reply: dict) -> None:
        payload = json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)
