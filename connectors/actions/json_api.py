"""One write to a vendor's JSON API, the way every supply-side action client sends it (issue 13).

A single attempt per call: the engine (tower/actions) owns retries and backoff, and the vendor
deduplicates on the `Idempotency-Key` header, so a retry after a timeout replays the first answer.
Failures are sorted for the engine: 4xx → ActionRefused with the vendor's reason in words;
timeouts, connection errors, 429 and 5xx (and a garbled 2xx) → ActionUnavailable with the wait the
vendor asked for. Timeouts come from the source's HttpPolicy; errors never carry the token."""
from __future__ import annotations

from datetime import date, datetime

import requests

from connectors.actions.base import ActionRefused, ActionUnavailable
from connectors.http import Http, HttpPolicy, retry_after_s, short
from tower.config import SANDBOX_TOKEN, Config

RETRY_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))


def action_url(cfg: Config, name: str, default: str) -> tuple[str, bool]:
    """([actions] <name> with "{sandbox}" resolved, whether it points at the sandbox)."""
    raw = str((cfg.raw.get("actions") or {}).get(name, default))
    return raw.replace("{sandbox}", cfg.sandbox.url).rstrip("/"), "{sandbox}" in raw


def action_token(cfg: Config, vendor: str, on_sandbox: bool) -> str | None:
    """A vendor's key (env TOWER_<VENDOR>_API_KEY or secrets.toml [sources.<vendor>]); the sandbox's
    well-known token when the URL is the sandbox's."""
    return cfg.secret(vendor, "api_key") or (SANDBOX_TOKEN if on_sandbox else None)


def param(params: dict, name: str, *, required: bool = True):
    value = params.get(name)
    if required and (value is None or value == ""):
        raise ActionRefused(f"missing parameter {name}")
    return value


def whole(value):
    """200.0 → 200 (a plan computes floats); anything else goes as is for the vendor to judge."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def iso_day(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))   # Python 3.11 reads the trailing Z
    except ValueError:
        return None


def vendor_message(resp: requests.Response) -> str:
    """The vendor's reason in words: `{"errors": [{"field"|"code", "message"}]}` or `{"error": …}`."""
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {short(resp.text, 200)}"
    parts = []
    items = body.get("errors") if isinstance(body, dict) else None
    if isinstance(items, list):
        for e in items:
            if isinstance(e, dict):
                where = e.get("field")
                parts.append(f"{where}: {e.get('message', '')}" if where else str(e.get("message", e)))
    elif isinstance(body, dict) and isinstance(body.get("error"), dict):
        parts.append(str(body["error"].get("message", body["error"])))
    return "; ".join(parts) or f"HTTP {resp.status_code}: {short(resp.text, 200)}"


class JsonApi:
    """A bearer-token JSON API: `request` describes a call (the dry run), `call` makes it."""

    def __init__(self, token: str | None, policy: HttpPolicy):
        self.policy = policy
        self.http = Http(policy, headers={"Authorization": f"Bearer {token or ''}",
                                          "Content-Type": "application/json"}, secrets=[token or ""])

    @staticmethod
    def request(method: str, url: str, body: dict | None = None) -> dict:
        return {"method": method, "url": url, "body": body}

    def call(self, request: dict, key: str | None = None) -> tuple[dict, requests.Response]:
        method, url, body = request["method"], request["url"], request["body"]
        path = requests.utils.urlparse(url).path
        if key and not key.isascii():
            raise ActionRefused(f"idempotency key {key!r} must be ASCII text (it travels in a header)")
        headers = {"Idempotency-Key": key} if key else {}
        try:
            resp = self.http.session.request(method, url, json=body, headers=headers,
                                             timeout=(self.policy.connect_timeout_s, self.policy.read_timeout_s))
        except requests.Timeout:
            raise ActionUnavailable(f"{method} {path}: timed out") from None
        except requests.ConnectionError as e:
            raise ActionUnavailable(f"{method} {path}: connection failed ({type(e).__name__})") from None
        if resp.status_code in RETRY_STATUS:
            raise ActionUnavailable(self.http.redact(f"{method} {path}: HTTP {resp.status_code}"),
                                    status=resp.status_code, retry_after_s=retry_after_s(resp))
        if resp.status_code >= 400:
            try:
                reply = resp.json()
            except ValueError:
                reply = None
            raise ActionRefused(self.http.redact(vendor_message(resp)), status=resp.status_code,
                                response=reply if isinstance(reply, dict) else None)
        try:
            reply = resp.json()
        except ValueError:
            raise ActionUnavailable(f"{method} {path}: malformed reply (HTTP {resp.status_code})",
                                    status=resp.status_code) from None
        if not isinstance(reply, dict):
            raise ActionUnavailable(f"{method} {path}: unexpected reply", status=resp.status_code)
        return reply, resp

    @staticmethod
    def replayed(resp: requests.Response) -> bool:
        return resp.headers.get("Idempotent-Replayed", "").lower() == "true"
