"""17TRACK push notifications through the webhook receiver, over real HTTP on loopback: the sandbox
signs pushes as 17TRACK documents (`sign` = hex SHA-256 of `<raw body>/<API key>`, computed here
independently), a wrong sign is refused and nothing stored, a redelivered push (no delivery id in
17TRACK's pushes: the body's hash is the id) is stored once, an older push arriving late does not
overwrite a newer one, and a parcel change in the sandbox reaches DuckDB through the push."""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer

import pytest
import requests
from test_webhooks import Capture, free_port, post_tracking, scalar, tracking_body, wait_for

from connectors import webhooks
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from sandbox.webhook_sender import WebhookSender
from tower import config as config_mod
from tower import runtime as runtime_mod
from tower.clock import ManualClock
from tower.config import SANDBOX_TOKEN, SandboxConfig
from tower.db import Database

SECRET = SANDBOX_TOKEN  # a track17 source pointing at the sandbox: the sandbox token is its 17token
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
TRACK17 = {"kind": "track17", "base_url": "{sandbox}/track/v2.4"}


def sign_17track(key: str, body: bytes) -> str:
    """17TRACK's documented push signature, computed here independently of Tower's code."""
    return hashlib.sha256(body + b"/" + key.encode()).hexdigest()


def push_body(number: str, status: str, sub_status: str, synced: datetime, order_no: str | None = None) -> bytes:
    event_time = (synced - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"event": "TRACKING_UPDATED", "data": {
        "number": number, "carrier": 100001, "param": None, "tag": "US-WEST-LA", "order_no": order_no,
        "track_info": {
            "latest_status": {"status": status, "sub_status": sub_status},
            "shipping_info": {"shipper_address": {"country": "CN"}, "recipient_address": {"country": "US"}},
            "tracking": {"providers": [{"provider": {"key": 100001, "alias": "dhl"},
                                        "latest_sync_time": synced.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                        "events": [{"time_utc": event_time, "time_iso": event_time,
                                                    "description": status, "stage": status,
                                                    "sub_status": sub_status}]}]}}}}).encode()


@pytest.fixture
def tower(tmp_path):
    """Receiver + loader + a real DuckDB file, with one 17TRACK source named `track17`."""
    write_config(tmp_path, "http://127.0.0.1:9", sources={"track17": TRACK17})
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"port": 0, "poll_s": 0.1})
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    assert hooks is not None, "a track17 source must start the receiver"
    hooks.start_loader(db)
    yield hooks, db
    hooks.stop()
    db.close()


def post_push(hooks, body: bytes, sign: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if sign is not None:
        headers["sign"] = sign
    return requests.post(hooks.receiver.endpoint("track17"), data=body, headers=headers, timeout=5).status_code


def test_sandbox_17track_pushes_carry_17tracks_documented_sign(tmp_path):
    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, history_days=5, scenarios=()), clock)
    Capture.got = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        sender = WebhookSender(server.world, clock, f"http://127.0.0.1:{httpd.server_address[1]}/webhooks",
                               track17_source="my17", duplicate_rate=0)
        clock.set(T0 + timedelta(hours=8))
        assert sender.poll_changes() > 0
        sender.deliver_due()
    finally:
        httpd.shutdown()
        httpd.server_close()
        server.stop()
    pushes = [(h, b) for path, h, b in Capture.got if path == "/webhooks/my17"]
    assert pushes, "no 17TRACK push was sent"
    for headers, body in pushes:
        assert headers["sign"] == sign_17track(SECRET, body)
        assert "aftership-hmac-sha256" not in headers
        payload = json.loads(body)
        assert payload["event"] == "TRACKING_UPDATED"
        assert payload["data"]["number"] and payload["data"]["track_info"]["latest_status"]["status"]


def test_a_wrong_or_missing_sign_is_refused_counted_and_nothing_stored(tower):
    hooks, db = tower
    body = push_body("LX100", "InTransit", "InTransit_PickedUp", T0)
    assert post_push(hooks, body, None) == 401
    assert post_push(hooks, body, sign_17track("another-account-key", body)) == 401
    tampered = body.replace(b"InTransit_PickedUp", b"InTransit_Arrival")
    assert post_push(hooks, tampered, sign_17track(SECRET, body)) == 401
    assert post_push(hooks, body, hashlib.sha256(body).hexdigest()) == 401  # the body alone, no key
    assert wait_for(lambda: scalar(db, "select coalesce(sum(rejected), 0) from webhook_rejections "
                                       "where source = 'track17'") == 4)
    assert scalar(db, "select count(*) from webhook_events") == 0
    assert scalar(db, "select count(*) from shipments") == 0
    assert hooks.spool.pending() == []


def test_a_redelivered_push_is_stored_once_and_the_newest_status_wins(tower):
    hooks, db = tower
    first = push_body("LX200", "InTransit", "InTransit_PickedUp", T0 + timedelta(hours=1))
    for _ in range(3):
        assert post_push(hooks, first, sign_17track(SECRET, first)) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from shipments where shipment_id = '17track:LX200'") == 1)
    assert post_push(hooks, first, sign_17track(SECRET, first)) == 200  # again, after it was loaded
    assert wait_for(lambda: scalar(db, "select deliveries from webhook_events") >= 2)
    assert scalar(db, "select count(*) from webhook_events where source = 'track17'") == 1
    assert scalar(db, "select delivery_id from webhook_events") == hashlib.sha256(first).hexdigest()
    assert scalar(db, "select count(*) from tracking_events where shipment_id = '17track:LX200'") == 1

    newer = push_body("LX200", "Delivered", "Delivered_Other", T0 + timedelta(hours=3))
    older = push_body("LX200", "OutForDelivery", "OutForDelivery_Other", T0 + timedelta(hours=2))
    assert post_push(hooks, newer, sign_17track(SECRET, newer)) == 200
    assert wait_for(lambda: scalar(db, "select tag from shipments where shipment_id = '17track:LX200'") == "Delivered")
    assert post_push(hooks, older, sign_17track(SECRET, older)) == 200   # late: must not win
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events") == 3)
    assert scalar(db, "select tag from shipments where shipment_id = '17track:LX200'") == "Delivered"
    assert scalar(db, "select status from webhook_events where delivery_id = $d",
                  {"d": hashlib.sha256(older).hexdigest()}) == "loaded"


def test_a_push_keeps_the_registration_time_the_poll_stored(tower):
    hooks, db = tower
    with db.cursor() as cur:
        cur.execute("insert into shipments (shipment_id, tracking_number, tag, created_at, updated_at) "
                    "values ('17track:LX300', 'LX300', 'InfoReceived', $c, $c)", {"c": T0})
    body = push_body("LX300", "Exception", "Exception_Lost", T0 + timedelta(hours=4))
    assert post_push(hooks, body, sign_17track(SECRET, body)) == 200
    assert wait_for(lambda: scalar(db, "select tag from shipments where shipment_id = '17track:LX300'") == "Exception")
    assert scalar(db, "select created_at from shipments where shipment_id = '17track:LX300'") == T0
    assert scalar(db, "select subtag from shipments where shipment_id = '17track:LX300'") == "Exception_013"


def test_a_push_loaded_in_one_batch_with_aftership_updates_keeps_its_registration_time(tmp_path):
    """Both parcel sources configured: a batch mixing AfterShip rows (with created_at) and 17TRACK
    rows (without) must not blank the 17TRACK shipment's registration time."""
    write_config(tmp_path, "http://127.0.0.1:9", sources={
        "track17": TRACK17, "aftership": {"kind": "aftership", "base_url": "{sandbox}/tracking/2026-07"}})
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"port": 0, "loader": False})
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    loader = hooks.start_loader(db)  # not started: the test runs one pass itself, so one batch
    try:
        with db.cursor() as cur:
            cur.execute("insert into shipments (shipment_id, tracking_number, tag, created_at, updated_at) "
                        "values ('17track:LX500', 'LX500', 'InfoReceived', $c, $c)", {"c": T0})
        push = push_body("LX500", "InTransit", "InTransit_PickedUp", T0 + timedelta(hours=1))
        assert post_push(hooks, push, sign_17track(SECRET, push)) == 200
        assert post_tracking(hooks, tracking_body("trk-50", T0, "InTransit", "evt-50")) == 200
        assert loader.load_pending() == 2
        assert scalar(db, "select count(*) from webhook_events where status = 'loaded'") == 2
        assert scalar(db, "select tag from shipments where shipment_id = '17track:LX500'") == "InTransit"
        assert scalar(db, "select created_at from shipments where shipment_id = '17track:LX500'") == T0
    finally:
        hooks.stop()
        db.close()


def test_a_tracking_stopped_push_is_recorded_and_changes_nothing(tower):
    hooks, db = tower
    body = json.dumps({"event": "TRACKING_STOPPED", "data": {"number": "LX400", "carrier": 100001}}).encode()
    assert post_push(hooks, body, sign_17track(SECRET, body)) == 200
    assert wait_for(lambda: scalar(db, "select count(*) from webhook_events where status = 'skipped'") == 1)
    assert scalar(db, "select topic from webhook_events") == "TRACKING_STOPPED"
    assert scalar(db, "select count(*) from shipments") == 0


def test_a_parcel_change_in_the_sandbox_reaches_duckdb_by_17track_push(tmp_path):
    """The app as `make run` starts it, with 17TRACK as the parcel source and the sandbox pushing."""
    sandbox_port = free_port()
    write_config(tmp_path, f"http://127.0.0.1:{sandbox_port}", interval_s=3600, sources={"track17": TRACK17})
    cfg = config_mod.load(tmp_path / "tower.toml", webhooks={"port": 0},
                          sandbox={"enabled": True, "port": sandbox_port, "speed": 600, "history_days": 0.25,
                                   "scenarios": [], "webhook_url": "{webhooks}", "webhook_duplicate_rate": 0.0})
    rt = runtime_mod.start(cfg)
    try:
        assert rt.webhook_sender is not None and rt.webhook_sender.track17_source == "track17"
        assert rt.webhooks.loader.after_load, "the alert engine must hear of webhook loads"
        world = rt.sandbox.world
        before = {t.id: t.updated_at for t in world.trackings(rt.clock.now()) if t.direction == "outbound"}

        def changed():
            fresh = [t for t in world.trackings(rt.clock.now())
                     if t.direction == "outbound" and before.get(t.id) != t.updated_at]
            return fresh[0] if fresh else None
        t = wait_for(changed, timeout=30, every=0.01)
        assert t, "the sandbox world did not change"

        def row():  # polls run hourly here: a newer version can only have come by push
            with rt.db.cursor() as cur:
                return cur.execute("select count(*) from shipments where shipment_id = $id and updated_at >= $u",
                                   {"id": f"17track:{t.tracking_number}", "u": t.updated_at}).fetchone()[0]
        assert wait_for(row, timeout=15, every=0.05)
        # the start-up poll may land that version first, so wait for the pushes themselves too
        assert wait_for(lambda: scalar(rt.db, "select count(*) from webhook_events where source = 'track17' "
                                              "and status = 'loaded'"), timeout=15, every=0.05)
        assert scalar(rt.db, "select count(*) from webhook_rejections where source = 'track17'") == 0
    finally:
        rt.stop()
