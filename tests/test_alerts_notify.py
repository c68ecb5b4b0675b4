"""Notifications over real HTTP on loopback: a stdlib receiver gets each platform's message format,
signatures are checked here with an independent implementation, retries recover from 5xx, and a
dead receiver neither blocks evaluation nor goes unrecorded."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tower import config as config_mod
from tower.alerts.engine import AlertEngine
from tower.alerts.notify import Notifier
from tower.clock import ManualClock
from tower.db import Database
from test_alerts_helpers import T0, make_settings, policy, stock

WALL = 1_767_225_600.25          # fixed wall clock for signing (2026-01-01T00:00:00.25Z)
SECRETS = {"feishu": "feishu-secret-1", "dingtalk": "SECdingtalk-secret-2"}
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class Receiver:
    """A loopback webhook receiver. `script` holds (path prefix, status, body[, headers]) answers,
    used once each by the first request whose path matches; other requests get the platform's
    success."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[str, int, dict | str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - stdlib name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urllib.parse.urlsplit(self.path)
                receiver.requests.append({
                    "path": url.path, "query": urllib.parse.parse_qs(url.query), "raw_query": url.query,
                    "json": json.loads(raw), "content_type": self.headers.get("Content-Type"),
                    "at": time.monotonic()})
                with receiver.lock:
                    hit = next((s for s in receiver.script if url.path.startswith(s[0])), None)
                    if hit:
                        receiver.script.remove(hit)
                status, body = hit[1:3] if hit else (200, _ok(url.path))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (hit[3] if hit and len(hit) > 3 else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def by_path(self, prefix):
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _ok(path: str):
    # Each platform's success answer.
    if path.startswith("/slack"):
        return "ok"
    if path.startswith("/feishu"):
        return {"code": 0, "msg": "success", "data": {}}
    return {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tower_config(tmp_path, monkeypatch, base_url: str):
    """A real tower Config whose .secret() finds the webhook settings in the environment."""
    path = tmp_path / "tower.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "t.duckdb"}"\n[sandbox]\nenabled = false\n')
    monkeypatch.setenv("TOWER_ALERTS_OPS_SLACK_WEBHOOK_URL", f"{base_url}/slack/services/T0/B0/XXX")
    monkeypatch.setenv("TOWER_ALERTS_OPS_FEISHU_WEBHOOK_URL", f"{base_url}/feishu/open-apis/bot/v2/hook/abc")
    monkeypatch.setenv("TOWER_ALERTS_OPS_FEISHU_SECRET", SECRETS["feishu"])
    monkeypatch.setenv("TOWER_ALERTS_OPS_DINGTALK_WEBHOOK_URL", f"{base_url}/dingtalk/robot/send?access_token=tok")
    monkeypatch.setenv("TOWER_ALERTS_OPS_DINGTALK_SECRET", SECRETS["dingtalk"])
    monkeypatch.setenv("TOWER_ALERTS_OPS_WECOM_WEBHOOK_URL", f"{base_url}/cgi-bin/webhook/send?key={WECOM_KEY}")
    return config_mod.load(path)


def engine_with_red_alert(tmp_path, cfg, notify_overrides=None):
    db = Database(tmp_path / "n.duckdb")
    policy(db, "GL-BOWL-01", "US-WEST-LA", warning=100, limit=20)
    stock(db, "GL-BOWL-01", "US-WEST-LA", T0, 5)
    settings = make_settings(engine={"hold_count": 1, "min_interval_s": 0}, only=["stock_watermark"])
    ns = settings.notify
    if notify_overrides:
        ns = type(ns)(**{**ns.__dict__, **notify_overrides})
    clock = ManualClock(T0)
    notifier = Notifier(ns, secret=cfg.secret, db=db, clock=clock, wall=lambda: WALL)
    return db, AlertEngine(db, settings, clock, notifier)


def independent_feishu(ts: str, secret: str) -> str:
    mac = hmac.new(f"{ts}\n{secret}".encode("utf-8"), digestmod=hashlib.sha256)   # empty message
    return base64.b64encode(mac.digest()).decode()


def independent_dingtalk(ts: str, secret: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_each_platform_gets_its_format_signed(tmp_path, monkeypatch, receiver):
    cfg = tower_config(tmp_path, monkeypatch, receiver.url)
    db, engine = engine_with_red_alert(tmp_path, cfg)
    result = engine.evaluate()
    assert len(result.opened) == 1
    assert engine.notifier.drain(10)
    assert len(receiver.requests) == 4

    slack = receiver.by_path("/slack")[0]["json"]
    assert "[RED] New alert: Stock below limit: GL-BOWL-01 at US-WEST-LA" in slack["text"]
    assert slack["blocks"][0]["type"] == "header" and slack["blocks"][1]["text"]["type"] == "mrkdwn"

    feishu = receiver.by_path("/feishu")[0]["json"]
    assert feishu["timestamp"] == str(int(WALL))
    assert feishu["sign"] == independent_feishu(feishu["timestamp"], SECRETS["feishu"])
    assert feishu["msg_type"] == "interactive"
    assert feishu["card"]["header"]["template"] == "red"
    assert feishu["card"]["elements"][0]["text"]["tag"] == "lark_md"

    ding = receiver.by_path("/dingtalk")[0]
    assert ding["query"]["access_token"] == ["tok"]
    ts = ding["query"]["timestamp"][0]
    assert ts == str(int(WALL * 1000))                            # milliseconds
    assert ding["query"]["sign"][0] == independent_dingtalk(ts, SECRETS["dingtalk"])
    assert "sign=" + urllib.parse.quote_plus(ding["query"]["sign"][0]) in ding["raw_query"]  # URL-encoded
    assert ding["json"]["msgtype"] == "markdown"
    assert ding["json"]["markdown"]["text"].startswith("### ")

    wecom = receiver.by_path("/cgi-bin/webhook/send")[0]
    assert wecom["query"]["key"] == [WECOM_KEY]
    assert wecom["json"]["msgtype"] == "markdown"
    assert '<font color="warning">' in wecom["json"]["markdown"]["content"]

    sent = db.df("select platform, status, attempts, event from alert_notifications order by platform")
    assert list(sent.itertuples(index=False, name=None)) == [
        (p, "sent", 1, "opened") for p in ("dingtalk", "feishu", "slack", "wecom")]
    assert db.df("select count(*) n from alert_log where action = 'notified'").n[0] == 4
    engine.stop()
    db.close()


def test_yellow_goes_only_to_the_yellow_route(tmp_path, monkeypatch, receiver):
    cfg = tower_config(tmp_path, monkeypatch, receiver.url)
    db, engine = engine_with_red_alert(tmp_path, cfg)
    engine.clock.advance(minutes=2)
    # A fresh key that is only yellow:
    policy(db, "GL-CUP-02", "US-WEST-LA", warning=100, limit=20)
    stock(db, "GL-CUP-02", "US-WEST-LA", T0, 60)
    receiver.requests.clear()
    engine.evaluate()
    assert engine.notifier.drain(10)
    cup = [r for r in receiver.requests if "GL-CUP-02" in json.dumps(r["json"])]
    assert [r["path"].split("/")[1] for r in cup] == ["slack"]
    engine.stop()
    db.close()


def test_an_unacknowledged_yellow_reminder_reaches_the_red_channels_still_marked_yellow(
        tmp_path, monkeypatch, receiver):
    cfg = tower_config(tmp_path, monkeypatch, receiver.url)
    db, engine = engine_with_red_alert(tmp_path, cfg)
    policy(db, "GL-CUP-02", "US-WEST-LA", warning=100, limit=20)
    stock(db, "GL-CUP-02", "US-WEST-LA", T0, 60)               # yellow: below warning, above limit
    engine.evaluate()
    assert engine.notifier.drain(10)
    receiver.requests.clear()
    engine.clock.advance(minutes=61)                             # past the 60-minute ack target
    assert len(engine.evaluate().ack_overdue) == 2
    assert engine.notifier.drain(10)
    cup = [r for r in receiver.requests if "GL-CUP-02" in json.dumps(r["json"], ensure_ascii=False)]
    assert sorted(r["path"].split("/")[1] for r in cup) == ["cgi-bin", "dingtalk", "feishu", "slack"]
    assert all("[YELLOW]" in json.dumps(r["json"], ensure_ascii=False) for r in cup)
    assert not any("[RED]" in json.dumps(r["json"], ensure_ascii=False) for r in cup)
    sent = db.df("select distinct severity from alert_notifications where event = 'ack_overdue' "
                 "and alert_id = (select alert_id from alerts where entity_id like 'GL-CUP-02%')")
    assert list(sent.severity) == ["yellow"]
    engine.stop()
    db.close()


def test_retries_with_backoff_then_records_the_outcome(tmp_path, monkeypatch, receiver):
    cfg = tower_config(tmp_path, monkeypatch, receiver.url)
    db, engine = engine_with_red_alert(tmp_path, cfg, {"backoff_wall_s": 0.01, "routes": {"red": ("ops_slack", "ops_feishu")}})
    # Slack: two 503s then ok. Feishu: a refused signature (HTTP 200, code ≠ 0) is not retried.
    receiver.script = [("/slack", 503, "busy"), ("/slack", 503, "busy")]
    engine.evaluate()
    assert engine.notifier.drain(10)
    slack_attempts = receiver.by_path("/slack")
    assert len(slack_attempts) == 3
    got = db.df("select platform, status, attempts from alert_notifications order by platform")
    assert list(got.itertuples(index=False, name=None)) == [("feishu", "sent", 1), ("slack", "sent", 3)]

    receiver.requests.clear()
    receiver.script = [("/feishu", 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})]
    n = engine.notifier
    from tower.alerts.notify import Notice
    n.submit([Notice(1, "opened", "red", "t", None, "stock_watermark", "x", "stock_below_watermark", T0)])
    assert n.drain(10)
    failed = db.df("select platform, attempts, error from alert_notifications where status = 'failed'")
    assert len(failed) == 1 and failed.attempts[0] == 1 and "19021" in failed.error[0]
    engine.stop()
    db.close()


def test_a_rate_limited_channel_waits_as_asked_and_a_refusal_is_not_retried(tmp_path, monkeypatch, receiver):
    cfg = tower_config(tmp_path, monkeypatch, receiver.url)
    db, engine = engine_with_red_alert(tmp_path, cfg, {"backoff_wall_s": 0.01, "retries": 3,
                                                       "routes": {"red": ("ops_slack", "ops_wecom")}})
    # Slack says "too many requests, come back in 1 s"; WeCom refuses the request outright (400).
    receiver.script = [("/slack", 429, "rate limited", {"Retry-After": "1"}),
                       ("/cgi-bin", 400, "bad request")]
    engine.evaluate()
    assert engine.notifier.drain(10)
    slack = receiver.by_path("/slack")
    assert len(slack) == 2 and slack[1]["at"] - slack[0]["at"] >= 0.95   # not the 0.01 s backoff
    assert len(receiver.by_path("/cgi-bin")) == 1                         # a 400 will not pass later
    got = db.df("select platform, status, attempts, http_status from alert_notifications order by platform")
    assert list(got.itertuples(index=False, name=None)) == [("slack", "sent", 2, 200),
                                                            ("wecom", "failed", 1, 400)]
    engine.stop()
    db.close()


def test_dead_receiver_does_not_block_evaluation_and_is_logged(tmp_path, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    cfg = tower_config(tmp_path, monkeypatch, dead)
    db, engine = engine_with_red_alert(tmp_path, cfg, {"backoff_wall_s": 1.0, "retries": 3})
    started = time.perf_counter()
    result = engine.evaluate()
    elapsed = time.perf_counter() - started
    assert len(result.opened) == 1 and not result.errors
    # one delivery alone waits 1 + 2 s between its three attempts: an evaluation that returns sooner
    # did not wait for any (a bound from the backoff, not a speed; 0.5 s failed on a loaded CI machine)
    assert elapsed < 3.0
    assert engine.notifier.drain(20)
    failed = db.df("select platform, status, attempts, error from alert_notifications order by platform")
    assert list(failed.status) == ["failed"] * 4
    assert list(failed.attempts) == [3] * 4
    assert all("Connection" in e for e in failed.error)
    assert not failed.error.str.contains(WECOM_KEY).any()       # the key in the URL stays secret
    log = db.df("select action, new_value from alert_log where action = 'notify_failed'")
    assert len(log) == 4
    # The alert itself is there and the next evaluation still works.
    engine.clock.advance(minutes=1)
    assert not engine.evaluate().errors
    engine.stop()
    db.close()
