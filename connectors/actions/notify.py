"""Messages the war room sends (issue 13): `notify` posts the preset response text to the team channel
(a Slack incoming webhook: `{"text"}` → 200 `ok`), and `BuyerMessages` sends a buyer a message through
the shop's messaging API (`POST {messaging_url}/messages` with an `Idempotency-Key`, 201
`{"message_id"}`), which create_discount uses for the affected buyers.

URLs come from tower.toml `[actions]`: `team_channel_url` ("{channel}" in it is replaced by the
action's channel; without it the URL is the channel's own webhook, as Slack issues them) and
`messaging_url`; "{sandbox}" is the sandbox's address. A Slack webhook has no idempotency key: the
engine's log is what keeps a notify from being sent twice. One attempt per call: the engine retries."""
from __future__ import annotations

import requests

from connectors.actions.base import ActionRefused, ActionUnavailable, Sent
from connectors.http import HttpPolicy, short
from tower.config import SANDBOX_TOKEN, Config

DEFAULT_TEAM_CHANNEL = "{sandbox}/chat/hooks/war-room"
DEFAULT_MESSAGING = "{sandbox}/messaging/v1"
RETRY_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))
POLICY = HttpPolicy(connect_timeout_s=5.0, read_timeout_s=15.0, retries=0)


def actions_url(cfg: Config, name: str, default: str) -> tuple[str, bool]:
    """([actions] <name> with "{sandbox}" resolved, whether it points at the sandbox)."""
    raw = str((cfg.raw.get("actions") or {}).get(name, default))
    return raw.replace("{sandbox}", cfg.sandbox.url).rstrip("/"), "{sandbox}" in raw


def post(url: str, body: dict, headers: dict | None = None, secrets: tuple[str, ...] = ()) -> requests.Response:
    """One POST; timeouts, connection errors, 429 and 5xx → ActionUnavailable, other 4xx → ActionRefused
    with the vendor's words. Messages never carry a credential."""
    path = requests.utils.urlparse(url).path

    def clean(text: str) -> str:
        for s in secrets:
            if s:
                text = text.replace(s, "***")
        return text
    try:
        resp = requests.post(url, json=body, headers=headers or {},
                             timeout=(POLICY.connect_timeout_s, POLICY.read_timeout_s))
    except requests.Timeout:
        raise ActionUnavailable(f"POST {path}: timed out") from None
    except requests.ConnectionError as e:
        raise ActionUnavailable(f"POST {path}: connection failed ({type(e).__name__})") from None
    if resp.status_code in RETRY_STATUS:
        retry = resp.headers.get("Retry-After")
        raise ActionUnavailable(clean(f"POST {path}: HTTP {resp.status_code} {short(resp.text, 120)}"),
                                status=resp.status_code,
                                retry_after_s=float(retry) if retry and retry.replace(".", "", 1).isdigit() else None)
    if resp.status_code >= 400:
        raise ActionRefused(clean(f"POST {path}: {_words(resp)}"), status=resp.status_code)
    return resp


def _words(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code} {short(resp.text, 200)}"
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return f"HTTP {resp.status_code} {short(resp.text, 200)}"


class NotifyClient:
    """`notify` {channel, text}: the preset response text to the team channel."""
    kind = "notify"

    def __init__(self, cfg: Config):
        self.url_template, _ = actions_url(cfg, "team_channel_url", DEFAULT_TEAM_CHANNEL)

    def _url(self, params: dict) -> str:
        channel = str(params.get("channel") or "").strip()
        if "{channel}" in self.url_template:
            if not channel:
                raise ActionRefused("missing parameter channel")
            return self.url_template.replace("{channel}", channel)
        return self.url_template

    def preview(self, params: dict, key: str) -> dict:
        text = str(params.get("text") or "").strip()
        if not text:
            raise ActionRefused("missing parameter text (the message to post)")
        return {"method": "POST", "url": self._url(params), "body": {"text": text}}

    def send(self, params: dict, key: str) -> Sent:
        request = self.preview(params, key)
        resp = post(request["url"], request["body"])
        return Sent(None, request, {"reply": resp.text}, acknowledged=resp.text.strip() == "ok",
                    detail={"channel": params.get("channel")})

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        return None                                     # a posted message stays posted


class BuyerMessages:
    """The shop's buyer messaging API (one message per buyer, deduplicated on the key)."""

    def __init__(self, cfg: Config):
        self.url, on_sandbox = actions_url(cfg, "messaging_url", DEFAULT_MESSAGING)
        self.token = cfg.secret("messaging", "api_key") or (SANDBOX_TOKEN if on_sandbox else None)

    def request(self, to: str, locale: str, subject: str, body: str, reference: str = "") -> dict:
        return {"method": "POST", "url": f"{self.url}/messages",
                "body": {"to": to, "locale": locale, "subject": subject, "body": body, "reference": reference}}

    def send(self, request: dict, key: str) -> dict:
        headers = {"Authorization": f"Bearer {self.token or ''}", "Idempotency-Key": key}
        resp = post(request["url"], request["body"], headers, secrets=(self.token or "",))
        try:
            return resp.json()
        except ValueError:
            raise ActionUnavailable(f"POST {request['url']}: malformed reply (HTTP {resp.status_code})") from None
