"""A client for Shopify's GraphQL Admin API: `gql` (its requests transport) sends the documents;
this module adds what Shopify's cost-based throttling and a connector run need.

- Throttling: each answer's `extensions.cost.throttleStatus` says how many points the shop's bucket
  holds and how fast it refills. Before a query we wait until the bucket (as last reported, refilled
  since at `restoreRate`) holds that query's cost (its `requestedQueryCost` last time, else an
  estimate), so we never run into the wall. A THROTTLED answer anyway (HTTP 200 or 429, no data)
  waits for exactly the missing points and retries; it is not a failure.
- Transient trouble (timeouts, connection errors, HTTP 5xx, a body that is not JSON) is retried
  with exponential backoff within the source's HttpPolicy; then it fails the run.
- GraphQL `errors` with HTTP 200 (or any other status) fail the run with Shopify's own message:
  `GraphQLFailed`. A 4xx without a GraphQL answer is an HttpError (401 bad token, 404 no shop).
Credentials never appear in messages (the caller redacts with its Http)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests
from gql import GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportServerError,
)
from gql.transport.requests import RequestsHTTPTransport

from connectors.http import Cancelled, HttpError, HttpPolicy, short

log = logging.getLogger("tower.connectors")
DEFAULT_COST = 50          # a query's assumed cost until Shopify has told us its real one
MAX_THROTTLED_IN_A_ROW = 5


class GraphQLFailed(Exception):
    """Shopify answered with GraphQL errors (or no usable data): the run fails with this message."""


class _Transient(Exception):
    pass


@dataclass
class Bucket:
    """The shop's cost bucket as Shopify last reported it."""
    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 100.0
    at: float = 0.0

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (0 if it already does)."""
        missing = min(cost, self.maximum) - self.now_available(now)
        return 0.0 if missing <= 0 else missing / max(self.restore_rate, 1e-6)


class ShopifyGraphQL:
    """One shop's GraphQL endpoint for one run."""

    def __init__(self, url: str, token: str | None, policy: HttpPolicy, cancel, clock=time.monotonic):
        self.url = url
        self.policy = policy
        self.cancel = cancel
        self.clock = clock
        self.bucket: Bucket | None = None
        self.costs: dict[str, float] = {}      # query name -> last requestedQueryCost
        self.requests_made = 0
        self.throttled = 0
        self._last_response: requests.Response | None = None
        self.transport = RequestsHTTPTransport(
            url, headers={"X-Shopify-Access-Token": token or "", "User-Agent": "tower-connectors/1"},
            timeout=(policy.connect_timeout_s, policy.read_timeout_s), retries=0)
        self.transport.connect()
        # gql keeps only the body; the status code decides between retry, HTTP error and GraphQL error
        self.transport.session.hooks["response"].append(self._remember)

    def _remember(self, resp, *args, **kwargs):
        self._last_response = resp

    def close(self) -> None:
        self.transport.close()

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self.cancel.wait(seconds):
            raise Cancelled()

    # ── one query ───────────────────────────────────────────────────────────────────────────────
    def execute(self, name: str, document: GraphQLRequest, variables: dict | None = None) -> dict:
        """The `data` of one query, after waiting for the bucket; raises GraphQLFailed, HttpError."""
        request = GraphQLRequest(document, variable_values=variables or {})
        waited, attempt, throttled_in_a_row = 0.0, 0, 0
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            if self.bucket is not None:  # pace: let the bucket refill for this query's cost
                pause = self.bucket.wait_for(self.costs.get(name, DEFAULT_COST), self.clock())
                self.sleep(pause + (0.05 if pause else 0))
            try:
                result, status = self._post(request)
            except _Transient as e:
                attempt += 1
                backoff = min(self.policy.backoff_s * 2 ** (attempt - 1), self.policy.max_backoff_s)
                if attempt > self.policy.retries or waited + backoff > self.policy.max_total_wait_s:
                    raise HttpError(f"POST {_path(self.url)}: {e} (gave up after {attempt} attempts)") from None
                log.info("POST %s: %s, retrying in %.2fs", _path(self.url), e, backoff)
                self.sleep(backoff)
                waited += backoff
                continue
            cost = (result.extensions or {}).get("cost") if isinstance(result.extensions, dict) else None
            self._note_cost(name, cost)
            if _is_throttled(result.errors):
                self.throttled += 1
                throttled_in_a_row += 1
                if self.bucket is not None and self.costs.get(name, 0) > self.bucket.maximum:
                    raise GraphQLFailed(f"{name}: costs {self.costs[name]:.0f} points, more than the shop's "
                                        f"bucket holds ({self.bucket.maximum:.0f}): lower the page size")
                if throttled_in_a_row > MAX_THROTTLED_IN_A_ROW:
                    raise GraphQLFailed(f"{name}: still throttled after {MAX_THROTTLED_IN_A_ROW} waits")
                if self.bucket is None or not cost:  # no throttle status: fall back to a backoff
                    self.sleep(min(self.policy.backoff_s * 2 ** throttled_in_a_row, self.policy.max_backoff_s))
                continue  # the wait for the missing points happens at the top of the loop
            if result.errors:
                raise GraphQLFailed(f"{name}: Shopify answered with errors (HTTP {status}): "
                                    f"{_error_text(result.errors)}")
            if status >= 400:
                raise HttpError(f"POST {_path(self.url)}: HTTP {status}", status)
            if not isinstance(result.data, dict):
                raise GraphQLFailed(f"{name}: Shopify's answer has no data object")
            return result.data

    def _post(self, request: GraphQLRequest):
        self.requests_made += 1
        self._last_response = None
        try:
            result = self.transport.execute(request)
        except TransportConnectionFailed as e:
            if isinstance(e.__cause__, requests.Timeout):
                raise _Transient("timed out") from None
            raise _Transient(f"connection failed ({type(e.__cause__ or e).__name__})") from None
        except TransportServerError as e:  # HTTP >= 400 without a GraphQL body
            code = e.code or 0
            if code == 429 or code >= 500:
                raise _Transient(f"HTTP {code}") from None
            raise HttpError(f"POST {_path(self.url)}: HTTP {code}", code) from None
        except TransportProtocolError:  # 200 with a body that is not a GraphQL answer
            raise _Transient("malformed answer (not GraphQL JSON)") from None
        status = self._last_response.status_code if self._last_response is not None else 200
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if status in (401, 403, 404):  # Shopify's REST-style error bodies: {"errors": "Not Found"}
            raise HttpError(f"POST {_path(self.url)}: HTTP {status} {short(_error_text(result.errors), 120)}",
                            status)
        return result, status

    def _note_cost(self, name: str, cost) -> None:
        if not isinstance(cost, dict):
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, (int, float)):
            self.costs[name] = float(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            try:
                self.bucket = Bucket(float(status["maximumAvailable"]), float(status["currentlyAvailable"]),
                                     float(status["restoreRate"]), self.clock())
            except (KeyError, TypeError, ValueError):
                pass


def _is_throttled(errors) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def _error_text(errors) -> str:
    if isinstance(errors, list):
        parts = []
        for e in errors[:3]:
            if isinstance(e, dict):
                code = (e.get("extensions") or {}).get("code")
                parts.append(f"{e.get('message', '?')}" + (f" [{code}]" if code else ""))
            else:
                parts.append(str(e))
        return short("; ".join(parts), 240)
    return short(str(errors), 240)


def _path(url: str) -> str:
    return requests.utils.urlparse(url).path
