"""Signed webhooks, over real HTTP on loopback: the sandbox signs as the vendors document, the
receiver refuses what is not verified (and counts it), stores each delivery once, applies the
newest version of a record whatever the order, loses nothing to a kill -9 between "stored" and
"loaded", and a tracking change in the sandbox reaches DuckDB within seconds."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from connectors import webhooks
from connectors.testing import sources_for, write_config
from sandbox.server import start as start_sandbox
from sandbox.webhook_sender import WebhookSender
from tests.screens import DrawingScreen
from tower import config as config_mod
from tower import runtime as runtime_mod
from tower.clock import ManualClock
from tower.config import SANDBOX_TOKEN, SandboxConfig
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent
SECRET = SANDBOX_TOKEN  # sources pointing at the sandbox use the sandbox's token as webhook secret
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


# ── helpers ─────────────────────────────────────────────────────────────────────────────────────
def vendor_hmac(secret: str, body: bytes) -> str:
    """The vendors' documented algorithm, computed here independently of Tower's code."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def tower_config(folder: Path, *, loader: bool = True, sources=("aftership", "shopify", "returns")):
    cfg = write_config(folder, "http://127.0.0.1:9", sources={k: v for k, v in sources_for().items()
                                                                if k in sources})
    with (folder / "tower.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[webhooks]\nport = 0\nloader = {'true' if loader else 'false'}\npoll_s = 0.1\n")
    return config_mod.load(folder / "tower.toml")


@pytest.fixture
def tower(tmp_path):
    """Receiver + loader + a real DuckDB file, as the app runs them."""
    cfg = tower_config(tmp_path)
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    yield hooks, db
    hooks.stop()
    db.close()


def tracking_body(tid: str, updated_at: datetime, tag: str, event_id: str) -> bytes:
    return json.dumps({"event": "tracking_update", "event_id": event_id, "ts": int(updated_at.timestamp()),
                       "msg": {"id": tid, "tracking_number": f"TN-{tid}", "slug": "dhl", "tag": tag,
                               "updated_at": updated_at.isoformat(), "created_at": T0.isoformat(),
                               "checkpoints": []}}).encode()


def post(url: str, body: bytes, headers: dict) -> int:
    return requests.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                         timeout=5).status_code


def post_tracking(hooks, body: bytes, signature: str | None = "auto") -> int:
    headers = {} if signature is None else {
        "aftership-hmac-sha256": vendor_hmac(SECRET, body) if signature == "auto" else signature}
    return post(hooks.receiver.endpoint("aftership"), body, headers)


def wait_for(check, timeout: float = 10.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def scalar(db, sql: str, params=None):
    with db.cursor() as cur:
        return cur.execute(sql, params or {}).fetchone()[0]


class Capture(BaseHTTPRequestHandler):
    """A vendor-webhook endpoint that records what it is sent and answers 200."""
    protocol_version = "HTTP/1.1"
    got: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sandbox():
    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, history_days=5, scenarios=()), clock)
    yield server, clock
    server.stop()


# ── signatures ──────────────────────────────────────────────────────────────────────────────────
def test_sandbox_webhooks_carry_the_vendors_documented_signatures(sandbox):
    server, clock = sandbox
    Capture.got = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        sender = WebhookSender(server.world, clock, f"http://127.0.0.1:{httpd.server_address[1]}/webhooks",
                               duplicate_rate=0)
        clock.set(T0 + timedelta(hours=8))
        assert sender.poll_changes() > 0
        sender.deliver_due()
    finally:
        httpd.shutdown()
        httpd.server_close()
    by_path = {}
    for path, headers, body in Capture.got:
        by_path.setdefault(path, []).append((headers, body))
    assert set(by_path) == {"/webhooks/aftership", "/webhooks/shopify", "/webhooks/returns"}
    header_of = {"/webhooks/aftership": "aftership-hmac-sha256",       # AfterShip Tracking
                 "/webhooks/returns": "as-signature-hmac-sha256",      # AfterShip Returns
                 "/webhooks/shopify": "X-Shopify-Hmac-Sha256"}         # Shopify
    for path, deliveries in by_path.items():
        for headers, body in deliveries:
            assert headers[header_of[path]] == vendor_hmac(SECRET, body), path
    tracking = json.loads(by_path["/webhooks/aftership"][0][1])
    assert tracking["event"] == "tracking_update" and tracking["event_id"] and tracking["msg"]["id"]
    ret = json.loads(by_path["/webhooks/returns"][0][1])
    assert ret["event"].startswith("return.") and len(ret["id"]) == 32 and ret["data"]["rma_number"]
    topics = {h["X-Shopify-Topic"] for h, _ in by_path["/webhooks/shopify"]}
    assert "inventory_levels/update" in topics and topics & {"orders/create", "orders/updated"}
    for headers, _ in by_path["/webhooks/shopify"]:
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Shop-Domain"].endswith(".myshopify.com")


def test_the_sandbox_retries_a_failed_delivery_with_backoff(sandbox, tmp_path):
    server, clock = sandbox
    port = free_port()  # nothing listens there yet: the first attempts fail
    sender = WebhookSender(server.world, clock, f"http://127.0.0.1:{port}/webhooks", duplicate_rate=0,
                           backoff_s=0.05, retries=6, timeout_s=1)
    clock.set(T0 + timedelta(hours=1))
    queued = sender.poll_changes()
    assert queued > 0
    sender.deliver_due()
    assert sender.stats.failed == queued and sender.stats.sent == 0 and sender.pending() == queued
    cfg = tower_config(tmp_path)
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"port": port})
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    try:
        wait_for(lambda: (sender.deliver_due(), sender.pending() == 0)[1], timeout=10)
        assert sender.stats.sent == queued and sender.stats.gave_up == 0
        assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == queued)
    finally:
        hooks.stop()
        db.close()


# ── refusals ────────────────────────────────────────────────────────────────────────────────────
def test_unsigned_wrongly_signed_or_tampered_webhooks_are_refused_counted_and_not_stored(tower):
    hooks, db = tower
    body = tracking_body("trk-1", T0, "InTransit", "evt-1")
    assert post_tracking(hooks, body, signature=None) == 401                       # missing
    assert post_tracking(hooks, body, signature=vendor_hmac("not-the-secret", body)) == 401  # wrong key
    tampered = body.replace(b"InTransit", b"Delivered")                          # replayed, body changed
    assert post_tracking(hooks, tampered, signature=vendor_hmac(SECRET, body)) == 401
    shop_body = b'{"inventory_item_id": 1, "location_id": 2, "available": 5, "updated_at": "2026-11-20T08:00:00Z"}'
    assert post(hooks.receiver.endpoint("shopify"), shop_body,
                {"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Webhook-Id": "w-1",
                 "X-Shopify-Hmac-Sha256": base64.b64encode(b"x" * 32).decode()}) == 401
    assert post(f"{hooks.url}/webhooks/nope", body, {}) == 404
    assert post(f"{hooks.url}/elsewhere", body, {}) == 404

    rejected = wait_for(lambda: dict(db.df("select source, rejected from webhook_rejections")
                                     .itertuples(index=False)) == {"aftership": 3, "shopify": 1})
    assert rejected, db.df("select * from webhook_rejections")
    assert scalar(db, "select count(*) from webhook_events") == 0
    assert scalar(db, "select count(*) from shipments") == 0
    assert hooks.spool.pending() == []


def test_an_oversized_body_is_refused_with_413_before_it_is_read(tower):
    hooks, db = tower
    parts = urlsplit(hooks.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    # Announce 50 MB and send nothing: a receiver that tried to read it would hang until the timeout.
    conn.putrequest("POST", "/webhooks/aftership")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50_000_000))
    conn.putheader("aftership-hmac-sha256", "irrelevant")
    conn.endheaders()
    started = time.monotonic()
    assert conn.getresponse().status == 413
    assert time.monotonic() - started < 2
    conn.close()
    time.sleep(0.3)
    assert scalar(db, "select count(*) from webhook_events") == 0 and hooks.spool.pending() == []


# ── idempotence and order ───────────────────────────────────────────────────────────────────────
def test_a_redelivered_webhook_is_stored_once_and_counted(tower):
    hooks, db = tower
    body = tracking_body("trk-2", T0, "InTransit", "evt-2")
    assert post_tracking(hooks, body) == 200
    assert post_tracking(hooks, body) == 200          # redelivered before it was loaded …
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == 1)
    assert post_tracking(hooks, body) == 200          # … and after
    assert wait_for(lambda: scalar(db, "select deliveries from webhook_events") >= 2)
    assert scalar(db, "select count(*) from webhook_events") == 1
    assert scalar(db, "select count(*) from shipments where shipment_id = 'trk-2'") == 1
    # Shopify: the same X-Shopify-Webhook-Id is one delivery however often it comes.
    order = json.dumps({"id": 501, "name": "#501", "created_at": T0.isoformat(), "updated_at": T0.isoformat(),
                        "currency": "USD", "total_price": "10.00", "line_items": [
                            {"id": 1, "sku": "SKU-1", "quantity": 2, "price": "5.00"}]}).encode()
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-501",
               "X-Shopify-Shop-Domain": "green-living.myshopify.com",
               "X-Shopify-Hmac-Sha256": vendor_hmac(SECRET, order)}
    for _ in range(3):
        assert post(hooks.receiver.endpoint("shopify"), order, headers) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from orders where order_id = '501'") == 1)
    assert post(hooks.receiver.endpoint("shopify"), order, headers) == 200
    assert wait_for(lambda: scalar(db, "select deliveries from webhook_events where delivery_id = 'wh-501'") >= 2)
    assert scalar(db, "select count(*) from webhook_events where delivery_id = 'wh-501'") == 1
    assert scalar(db, "select count(*) from order_lines where order_id = '501'") == 1



def test_a_webhook_is_loaded_after_the_screens_have_drawn(tower, screens_first):
    """The loader's batch waits for a drawing screen (tower.foreground), then loads; the delivery
    is stored (answered 200) at once either way."""
    hooks, db = tower
    screen = DrawingScreen().start()
    try:
        assert post_tracking(hooks, tracking_body("trk-9", T0, "InTransit", "evt-9")) == 200
        time.sleep(0.5)
        assert scalar(db, "select count(*) from shipments where shipment_id = 'trk-9'") == 0, \
            "loaded while a screen was drawing"
    finally:
        screen.stop()
    assert wait_for(lambda: scalar(db, "select count(*) from shipments where shipment_id = 'trk-9'") == 1)

def test_a_redelivery_arriving_while_the_first_copy_waits_is_kept_and_counted(tmp_path):
    """A vendor retry that lands while the first copy is still in the spool (or being committed)
    must not vanish: both copies are kept, applied once, and counted as two deliveries."""
    cfg = tower_config(tmp_path, loader=False)
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    loader = hooks.start_loader(db)  # not started: the test runs the passes itself
    try:
        body = tracking_body("trk-9", T0, "InTransit", "evt-9")
        assert post_tracking(hooks, body) == 200
        first = hooks.spool.pending()
        assert post_tracking(hooks, body) == 200       # the retry, while the first copy waits
        assert len(hooks.spool.pending()) == 2 and hooks.spool.pending()[0] == first[0]
        assert loader.load_pending() == 2
        assert scalar(db, "select deliveries from webhook_events where delivery_id = 'evt-9'") == 2
        assert scalar(db, "select count(*) from shipments where shipment_id = 'trk-9'") == 1
        assert post_tracking(hooks, body) == 200 and loader.load_pending() == 1
        assert scalar(db, "select deliveries from webhook_events where delivery_id = 'evt-9'") == 3
        assert hooks.spool.pending() == []
    finally:
        hooks.stop()
        db.close()


def test_an_older_tracking_update_arriving_late_does_not_overwrite_a_newer_one(tower):
    hooks, db = tower
    newer = tracking_body("trk-3", T0 + timedelta(hours=2), "Delivered", "evt-3b")
    older = tracking_body("trk-3", T0 + timedelta(hours=1), "InTransit", "evt-3a")
    assert post_tracking(hooks, newer) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from shipments where shipment_id = 'trk-3'") == 1)
    assert post_tracking(hooks, older) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == 2)
    assert scalar(db, "select tag from shipments where shipment_id = 'trk-3'") == "Delivered"
    # both arriving in one batch, oldest last: still the newest wins
    a = tracking_body("trk-4", T0 + timedelta(hours=5), "OutForDelivery", "evt-4b")
    b = tracking_body("trk-4", T0 + timedelta(hours=4), "InTransit", "evt-4a")
    assert post_tracking(hooks, a) == 200 and post_tracking(hooks, b) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == 4)
    assert scalar(db, "select tag from shipments where shipment_id = 'trk-4'") == "OutForDelivery"


# ── durability ──────────────────────────────────────────────────────────────────────────────────
def test_a_kill_9_between_stored_and_loaded_loses_nothing_and_loads_once(tmp_path):
    cfg = tower_config(tmp_path, loader=False)  # the process stores and acknowledges, never loads
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "webhook_app.py"), str(tmp_path / "tower.toml")],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), url
        body = tracking_body("trk-9", T0, "InTransit", "evt-9")
        assert post(f"{url}/webhooks/aftership", body, {"aftership-hmac-sha256": vendor_hmac(SECRET, body)}) == 200
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    spooled = list((cfg.data_dir / "webhooks" / "inbox").glob("*.json"))
    assert len(spooled) == 1  # acknowledged = on disk

    # restart (loader on): the delivery is loaded, once, and the spool is emptied
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"loader": True})
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    try:
        assert wait_for(lambda: scalar(db, "select count(*) from shipments where shipment_id = 'trk-9'") == 1)
        assert post_tracking(hooks, body) == 200   # the vendor retries after the crash: still once
        assert wait_for(lambda: scalar(db, "select deliveries from webhook_events") == 2)
        assert scalar(db, "select count(*) from webhook_events") == 1
        assert wait_for(lambda: hooks.spool.pending() == [])   # the file goes once its rows are committed
    finally:
        hooks.stop()
        db.close()


# ── end to end ──────────────────────────────────────────────────────────────────────────────────
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_tracking_change_in_the_sandbox_is_queryable_in_duckdb_within_seconds(tmp_path):
    """The app as `make run` starts it (runtime.start): sandbox pushing to the receiver."""
    sandbox_port = free_port()
    cfg = write_config(tmp_path, f"http://127.0.0.1:{sandbox_port}", interval_s=3600,
                       sources={k: v for k, v in sources_for().items() if k in ("aftership", "returns")})
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"port": 0},
                          sandbox={"enabled": True, "port": sandbox_port, "speed": 600, "history_days": 0.25,
                                   "scenarios": [], "webhook_url": "{webhooks}", "webhook_duplicate_rate": 0.0})
    rt = runtime_mod.start(cfg)
    try:
        assert rt.webhooks is not None and rt.webhook_sender is not None
        world, sender = rt.sandbox.world, rt.webhook_sender
        # the next tracking version the world shows, and when it became visible
        before = {t.id: t.updated_at for t in world.trackings(rt.clock.now())}

        def changed():
            now = rt.clock.now()
            fresh = [t for t in world.trackings(now) if before.get(t.id) != t.updated_at]
            return (fresh[0], time.monotonic()) if fresh else None
        found = wait_for(changed, timeout=30, every=0.01)
        assert found, "the sandbox world did not change"
        t, seen_at = found

        def row():  # polls run hourly here: a newer version can only have come by webhook
            with rt.db.cursor() as cur:
                return cur.execute("select count(*) from shipments where shipment_id = $id and updated_at >= $u",
                                   {"id": t.id, "u": t.updated_at}).fetchone()[0]
        assert wait_for(row, timeout=10, every=0.02)
        assert time.monotonic() - seen_at < 4.0   # generous on a shared machine; the bench measures p95
        # the row itself may have come from the start-up poll; the pushes are sent and loaded moments
        # later (CI once read `sent` before the sender had counted its first 2xx)
        assert wait_for(lambda: sender.stats.sent > 0) and sender.stats.gave_up == 0
        assert wait_for(lambda: scalar(
            rt.db, "select count(*) from webhook_events where source = 'aftership' and status = 'loaded'") > 0)
    finally:
        rt.stop()


@pytest.mark.parametrize("kind", ["shopify_graphql", "shopify_rest"])
def test_a_store_read_over_graphql_or_rest_still_takes_shopify_webhooks(tmp_path, kind):
    """Shopify signs the same webhooks whichever API the connector reads; the shipped tower.toml
    reads GraphQL, so a receiver keyed on kind "shopify" alone would answer its store 404."""
    cfg = tower_config(tmp_path, sources=("shopify",))
    text = (tmp_path / "tower.toml").read_text(encoding="utf-8")
    (tmp_path / "tower.toml").write_text(text.replace('kind = "shopify"', f'kind = "{kind}"'), encoding="utf-8")
    cfg = config_mod.load(tmp_path / "tower.toml")
    assert {s.kind for s in cfg.sources.values()} == {kind}
    hooks = webhooks.start(cfg)
    try:
        body = b'{"id": 1, "updated_at": "2026-11-20T08:00:00Z"}'
        url = hooks.receiver.endpoint("shopify")
        signed = {"X-Shopify-Hmac-Sha256": vendor_hmac(SECRET, body), "X-Shopify-Webhook-Id": "w-1",
                  "X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": "green-living.myshopify.com"}
        assert post(url, body, signed) == 200
        assert post(url, body, {**signed, "X-Shopify-Hmac-Sha256": vendor_hmac("wrong", body)}) == 401
    finally:
        hooks.stop()
