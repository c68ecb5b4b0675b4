"""Two message endpoints the war room writes to (issue 13):

- A team channel in the shape of a Slack incoming webhook: `POST /chat/hooks/{channel}` with
  `{"text", "blocks"?}` answers 200 `ok` (text/plain); a body without text answers 400 `no_text`, a
  body that is not JSON 400 `invalid_payload` (Slack's words). The URL is the secret, as with Slack:
  no token. `GET /chat/hooks/{channel}/messages` lists what the channel received (sandbox only, for
  tests and the demo).
- Buyer messages (a stand-in for the shop's email tool): `POST /messaging/v1/messages`
  `{"to", "locale", "subject", "body", "reference"}` with a bearer token and an `Idempotency-Key`
  header answers 201 `{"message_id", …}`; the same key again answers the same message (200) and never
  sends twice; the same key with another body is refused (422). The world remembers the message: a
  buyer told before their order is late answers CSAT better (sandbox/world_storefront.py)."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field

from sandbox.formats.base import Reply, iso_z

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCALES = ("en", "zh")


@dataclass
class TextReply(Reply):
    """A plain-text answer (Slack answers `ok` / an error word)."""
    text: str = ""

    def body(self) -> bytes:
        return self.text.encode()

    @property
    def content_type(self) -> str:
        return "text/plain; charset=utf-8"


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


@dataclass
class Inbox:
    """What the sandbox's channels and buyers received; the buyer messaging idempotency memory."""
    channels: dict = field(default_factory=dict)        # channel -> [{"text", "blocks", "received_at"}]
    _keys: dict = field(default_factory=dict)           # idempotency key -> (fingerprint, reply body)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post_hook(self, channel: str, body: bytes, now) -> Reply:
        if not _CHANNEL.match(channel):
            return TextReply(404, text="channel_not_found")
        try:
            payload = json.loads(body or b"")
        except ValueError:
            return TextReply(400, text="invalid_payload")
        if not isinstance(payload, dict):
            return TextReply(400, text="invalid_payload")
        text = payload.get("text")
        blocks = payload.get("blocks")
        if not (isinstance(text, str) and text.strip()) and not blocks:
            return TextReply(400, text="no_text")
        if blocks is not None and not isinstance(blocks, list):
            return TextReply(400, text="invalid_blocks")
        with self._lock:
            self.channels.setdefault(channel, []).append(
                {"text": text or "", "blocks": blocks or [], "received_at": iso_z(now)})
        return TextReply(200, text="ok")

    def messages(self, channel: str) -> Reply:
        with self._lock:
            rows = list(self.channels.get(channel, []))
        return Reply(200, {"channel": channel, "messages": rows})

    def send_buyer_message(self, world, body: bytes, key: str | None, now) -> Reply:
        if not key:
            return error(400, "missing_idempotency_key", "an Idempotency-Key header is required")
        try:
            payload = json.loads(body or b"")
        except ValueError:
            return error(400, "invalid_json", "body must be JSON")
        problem = _check(payload)
        if problem:
            return error(422, "invalid_request", problem)
        fingerprint = json.dumps(payload, sort_keys=True)
        with self._lock:
            hit = self._keys.get(key)
            if hit is not None:
                if hit[0] != fingerprint:
                    return error(422, "idempotency_key_reused", "this key was already used with a different message")
                return Reply(200, hit[1], headers={"Idempotent-Replayed": "true"})
            msg = world.send_buyer_message(payload["to"], payload["locale"], payload["subject"], payload["body"],
                                           payload.get("reference") or "", now)
            out = {"message_id": msg.message_id, "to": msg.to, "locale": msg.locale, "reference": msg.reference,
                   "status": "sent", "sent_at": iso_z(msg.sent_at)}
            self._keys[key] = (fingerprint, out)
        return Reply(201, out)


def _check(payload) -> str | None:
    if not isinstance(payload, dict):
        return "body must be a JSON object"
    for name in ("to", "locale", "subject", "body"):
        if not isinstance(payload.get(name), str) or not payload[name].strip():
            return f"{name} is required"
    if not _EMAIL.match(payload["to"]):
        return f"to: {payload['to']!r} is not an email address"
    if payload["locale"] not in LOCALES:
        return f"locale must be one of {', '.join(LOCALES)}"
    if len(payload["body"]) > 10_000:
        return "body is longer than 10000 characters"
    if not isinstance(payload.get("reference", ""), str):
        return "reference must be a string"
    return None
