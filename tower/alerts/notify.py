"""Webhook notifications in each platform's own format: Slack incoming webhook, Feishu/Lark custom
bot, DingTalk custom robot and WeCom group robot. Deliveries run on a small worker pool so a slow
or dead endpoint never blocks evaluation; each is retried with backoff and its outcome is written
to alert_notifications and alert_log.

Signing uses the wall clock, not the (possibly accelerated) Tower clock: Feishu and DingTalk reject
signatures whose timestamp is far from real time."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import requests

from tower.alerts.settings import ChannelSettings, NotifySettings

log = logging.getLogger("tower.alerts.notify")
ACTOR = "notifier"
EVENT_LABEL = {
    "opened": "New alert",
    "escalated": "Escalated to red",
    "ack_overdue": "Not acknowledged in time",
    "resolved": "Resolved",
}
ICON = {"red": "🔴", "yellow": "🟡", "green": "🟢"}


@dataclass(frozen=True)
class Notice:
    alert_id: int
    event: str            # opened | escalated | ack_overdue | resolved
    severity: str         # the alert's severity, as shown
    title: str
    detail: str | None
    rule: str
    entity_id: str
    playbook: str
    at: datetime          # Tower clock time of the change

    @property
    def route_severity(self) -> str:
        """Which channels get it: the not-acknowledged reminder goes to the red channels whatever
        the alert's severity (it must reach someone), but it keeps showing the true severity."""
        return "red" if self.event == "ack_overdue" else self.severity

    @property
    def headline(self) -> str:
        shown = "green" if self.event == "resolved" else self.severity
        return f"{ICON.get(shown, '')} [{self.severity.upper()}] {EVENT_LABEL.get(self.event, self.event)}: {self.title}"

    def body_lines(self) -> list[str]:
        lines = [self.detail] if self.detail else []
        lines.append(f"Rule {self.rule} · {self.entity_id} · alert #{self.alert_id}")
        lines.append(f"Playbook: playbooks/{self.playbook}.md")
        lines.append(f"At {self.at:%Y-%m-%d %H:%M} UTC")
        return lines


# ── signatures (public so tests and receivers can check them independently) ─────────────────────
def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Feishu/Lark custom bot: HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message,
    base64-encoded; timestamp in seconds."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk custom robot: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret",
    base64-encoded (URL-encoding happens when it is put in the query string); timestamp in ms."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# ── message formats ─────────────────────────────────────────────────────────────────────────────
def slack_request(url: str, n: Notice, secret: str | None, wall: float) -> tuple[str, dict]:
    text = n.headline + "\n" + "\n".join(n.body_lines())
    return url, {
        "text": text,  # fallback for notifications and clients without blocks
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": n.headline[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(n.body_lines())}},
        ],
    }


def feishu_request(url: str, n: Notice, secret: str | None, wall: float) -> tuple[str, dict]:
    template = {"red": "red", "yellow": "yellow"}.get(n.severity, "grey")
    if n.event == "resolved":
        template = "green"
    body = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": n.headline}, "template": template},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(n.body_lines())}}],
        },
    }
    if secret:
        ts = int(wall)
        body = {"timestamp": str(ts), "sign": feishu_sign(ts, secret), **body}
    return url, body


def dingtalk_request(url: str, n: Notice, secret: str | None, wall: float) -> tuple[str, dict]:
    if secret:
        ts = int(wall * 1000)
        query = urllib.parse.urlencode({"timestamp": ts, "sign": dingtalk_sign(ts, secret)})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    text = f"### {n.headline}\n\n" + "\n\n".join(n.body_lines())
    return url, {"msgtype": "markdown", "markdown": {"title": n.headline[:64], "text": text}}


def wecom_request(url: str, n: Notice, secret: str | None, wall: float) -> tuple[str, dict]:
    # WeCom markdown knows three font colours: info (green), comment (grey), warning (orange-red).
    colour = "info" if n.event == "resolved" else ("warning" if n.severity == "red" else "comment")
    content = f'<font color="{colour}">**{n.headline}**</font>\n' + "\n".join(
        f"> {line}" for line in n.body_lines())
    return url, {"msgtype": "markdown", "markdown": {"content": content}}


FORMATS = {
    "slack": slack_request,
    "feishu": feishu_request,
    "dingtalk": dingtalk_request,
    "wecom": wecom_request,
}


class DeliveryError(RuntimeError):
    def __init__(self, message: str, http_status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.http_status = http_status
        self.retryable = retryable


def _check(resp: requests.Response) -> None:
    """Raise unless the platform accepted the message. Feishu, DingTalk and WeCom answer HTTP 200
    with an error code in the body (code / StatusCode / errcode) when they refuse one."""
    if resp.status_code == 429 or resp.status_code >= 500:
        raise DeliveryError(f"HTTP {resp.status_code}", resp.status_code, retryable=True)
    if resp.status_code >= 400:
        raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:120]}", resp.status_code, retryable=False)
    try:
        body = resp.json()
    except ValueError:
        return  # Slack answers a plain "ok"
    if isinstance(body, dict):
        for key in ("errcode", "code", "StatusCode"):
            if body.get(key) not in (None, 0):
                msg = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
                raise DeliveryError(f"{key} {body[key]}: {str(msg)[:120]}", resp.status_code, retryable=False)


@dataclass(frozen=True)
class Delivery:
    channel: str
    platform: str
    status: str           # sent | failed
    attempts: int
    http_status: int | None
    error: str | None


class Notifier:
    """Routes notices to the channels configured for their severity and delivers them off-thread.

    `secret(source, key)` is tower.config.Config.secret; channel `x` reads
    secret("alerts_x", "webhook_url") and secret("alerts_x", "secret")."""

    def __init__(self, settings: NotifySettings, secret, db=None, clock=None, wall=time.time,
                 session: requests.Session | None = None, max_workers: int = 2):
        self.settings = settings
        self.secret = secret
        self.db = db
        self.clock = clock
        self.wall = wall
        self.session = session or requests.Session()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tower-notify")
        self._pending: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, notices: list[Notice]) -> None:
        for n in notices:
            if n.event not in self.settings.events:
                continue
            for channel in self.settings.channels_for(n.route_severity):
                url = self.secret(f"alerts_{channel.name}", "webhook_url")
                if not url:
                    continue  # channel not configured on this installation
                fut = self._pool.submit(self._deliver_and_record, channel, url, n)
                with self._lock:
                    self._pending.add(fut)
                fut.add_done_callback(self._forget)

    def _forget(self, fut: Future) -> None:
        with self._lock:
            self._pending.discard(fut)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for queued deliveries (tests, shutdown). True when all finished."""
        with self._lock:
            pending = list(self._pending)
        done, not_done = wait(pending, timeout=timeout)
        return not not_done

    def close(self) -> None:
        self.drain(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def deliver(self, channel: ChannelSettings, url: str, n: Notice) -> Delivery:
        """Send one notice to one channel, with retries and exponential backoff."""
        secret = self.secret(f"alerts_{channel.name}", "secret")
        attempts, error, http_status = 0, None, None
        for attempt in range(self.settings.retries):
            attempts = attempt + 1
            # Re-sign every attempt: the platforms only accept fresh timestamps.
            target, body = FORMATS[channel.platform](url, n, secret, self.wall())
            try:
                resp = self.session.post(target, json=body, timeout=self.settings.timeout_wall_s)
                http_status = resp.status_code
                _check(resp)
                return Delivery(channel.name, channel.platform, "sent", attempts, http_status, None)
            except DeliveryError as e:
                error, http_status = str(e), e.http_status
                if not e.retryable:
                    break
            except requests.RequestException as e:
                # The exception text can carry the URL, and the URL is a secret (it holds the key).
                error = type(e).__name__
            if attempt + 1 < self.settings.retries:
                time.sleep(self.settings.backoff_wall_s * (2 ** attempt))
        return Delivery(channel.name, channel.platform, "failed", attempts, http_status, error)

    def _deliver_and_record(self, channel: ChannelSettings, url: str, n: Notice) -> Delivery:
        try:
            d = self.deliver(channel, url, n)
        except Exception as e:  # noqa: BLE001 - a formatting bug must still be recorded
            d = Delivery(channel.name, channel.platform, "failed", 0, None, type(e).__name__)
        if d.status == "failed":
            log.warning("alert #%s %s to %s failed: %s", n.alert_id, n.event, channel.name, d.error)
        if self.db is not None:
            self._record(n, d)
        return d

    def _record(self, n: Notice, d: Delivery) -> None:
        at = self.clock.now() if self.clock else n.at
        try:
            with self.db.cursor() as cur:
                cur.execute("begin")
                cur.execute(
                    "insert into alert_notifications (alert_id, channel, platform, event, severity, "
                    "status, attempts, http_status, error, sent_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [n.alert_id, d.channel, d.platform, n.event, n.severity, d.status, d.attempts,
                     d.http_status, d.error, at])
                cur.execute(
                    "insert into alert_log (alert_id, logged_at, actor, action, old_value, new_value, note) "
                    "values (?, ?, ?, ?, ?, ?, ?)",
                    [n.alert_id, at, ACTOR, "notified" if d.status == "sent" else "notify_failed",
                     n.event, d.channel,
                     d.error if d.status == "failed" else f"{d.platform}, {d.attempts} attempt(s)"])
                cur.execute("commit")
        except Exception:  # noqa: BLE001 - e.g. the database closed during shutdown
            log.exception("could not record delivery of alert #%s", n.alert_id)
