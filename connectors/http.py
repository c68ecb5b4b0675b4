"""HTTP for connectors: GET with retries (tenacity: exponential backoff with jitter, honouring
Retry-After), per-request timeouts, pacing hooks, cancellation, and credential redaction in errors."""
from __future__ import annotations

import email.utils
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable

import requests
import tenacity

log = logging.getLogger("tower.connectors")
MAX_ERROR_CHARS = 300


class Cancelled(Exception):
    """The scheduler is stopping: abandon the run (nothing is written)."""

    def __init__(self, message: str = "cancelled: Tower stopped before the run finished"):
        super().__init__(message)  # what sync_runs and the Sources page say about the run


class HttpError(Exception):
    """A request that failed for good (non-retryable status, or retries exhausted)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    retries: int = 4                 # extra attempts after the first
    backoff_s: float = 0.5           # first backoff; doubles per attempt
    max_backoff_s: float = 30.0      # cap for one wait (also caps Retry-After / rate-limit resets)
    max_total_wait_s: float = 120.0  # cap for all waits of one request

    @classmethod
    def from_options(cls, options: dict) -> "HttpPolicy":
        known = {k: float(options[k]) for k in (
            "connect_timeout_s", "read_timeout_s", "backoff_s", "max_backoff_s", "max_total_wait_s")
            if k in options}
        if "retries" in options:
            known["retries"] = int(options["retries"])
        return cls(**known)


def retry_after_s(resp: requests.Response, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `Retry-After` (seconds or HTTP date), else AfterShip's
    `X-RateLimit-Reset` (unix time of the window reset). None when it says nothing usable."""
    now = time.time() if now is None else now
    value = resp.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = resp.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


class Http:
    """GET with timeouts and retries: timeouts, connection errors, 429, 5xx and malformed JSON are
    retried with exponential backoff that honours Retry-After / X-RateLimit-Reset; everything else
    fails at once. Errors name the path and the reason, never the credentials."""

    RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

    def __init__(self, policy: HttpPolicy, headers: dict | None = None, auth=None,
                 secrets: Iterable[str] = (), cancel: threading.Event | None = None,
                 on_response=None):
        self.policy = policy
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "tower-connectors/1"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.secrets = [s for s in secrets if s]
        self.cancel = cancel or threading.Event()
        self.on_response = on_response  # e.g. Shopify's call-limit throttle
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled()

    def get_json(self, url: str, params: dict | None = None) -> tuple[Any, requests.Response]:
        resp = self._get(url, params, want_json=True)
        return resp._tower_json, resp  # parsed once inside the retry loop

    def get_text(self, url: str, params: dict | None = None) -> tuple[str, requests.Response]:
        """Text (CSV) bodies; one that stops mid-line is a truncated download and is retried
        (CSV writers end every record with a newline)."""
        resp = self._get(url, params, want_json=False)
        return resp.text, resp

    def _get(self, url: str, params: dict | None, want_json: bool) -> requests.Response:
        p = self.policy
        path = requests.utils.urlparse(url).path

        def wait(state: tenacity.RetryCallState) -> float:
            """Exponential backoff, or what the server asked for (Retry-After …); capped."""
            asked = state.outcome.exception().retry_after
            backoff = p.backoff_s * 2 ** (state.attempt_number - 1)
            return min(backoff if asked is None else max(asked, p.backoff_s), p.max_backoff_s)

        def log_retry(state: tenacity.RetryCallState) -> None:
            log.info("GET %s: %s, retrying in %.2fs", path, state.outcome.exception(), state.upcoming_sleep)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            wait=wait,
            # total *waiting* is capped, not request time: a slow answer still gets its retries
            stop=tenacity.stop_after_attempt(p.retries + 1)
            | (lambda state: state.idle_for + state.upcoming_sleep > p.max_total_wait_s),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params, want_json, path)
        except Transient as e:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise HttpError(self.redact(f"GET {path}: {e} (gave up after {attempts} attempts)")) from None

    def _attempt(self, url: str, params: dict | None, want_json: bool, path: str) -> requests.Response:
        """One GET: the response, or Transient (worth retrying), or HttpError (not)."""
        if self.cancel.is_set():
            raise Cancelled()
        self.requests_made += 1
        try:
            resp = self.session.get(url, params=params, timeout=(self.policy.connect_timeout_s,
                                                                 self.policy.read_timeout_s))
        except requests.Timeout:
            raise Transient("timed out") from None
        except requests.ConnectionError as e:
            raise Transient(f"connection failed ({type(e).__name__})") from None
        if self.on_response:
            self.on_response(resp, self._sleep)
        if resp.status_code in self.RETRY_STATUS:
            raise Transient(f"HTTP {resp.status_code}", retry_after_s(resp))
        if resp.status_code >= 400:
            raise HttpError(self.redact(f"GET {path}: HTTP {resp.status_code} {short(resp.text, 120)}"),
                            resp.status_code)
        if want_json:
            try:
                resp._tower_json = resp.json()
            except ValueError:
                raise Transient("malformed JSON") from None
        elif resp.content and not resp.content.endswith(b"\n"):
            raise Transient("truncated body")
        return resp


class Transient(Exception):
    """A failure worth retrying; `retry_after` is what the server asked us to wait, if it said."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def short(text: str, n: int = MAX_ERROR_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


