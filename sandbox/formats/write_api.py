"""What the sandbox's write APIs share (issue 13: supplier-portal POs, forwarder bookings, WMS
transfers): JSON bodies, `Idempotency-Key` handling and the error shapes.

- Every create is a POST with an `Idempotency-Key` header. The first request with a key answers 201;
  the same key with the same body answers 200 with the same record and `Idempotent-Replayed: true`
  (never a second PO); the same key with another body is refused (422). Refusals are not remembered,
  so a retry after a 409 is judged afresh.
- 422 `{"errors": [{"field", "message"}]}` names the field; 409 `{"errors": [{"code", "message", …}]}`
  carries the numbers (free capacity, stock available); 404 `{"errors": [{"code": "not_found", …}]}`."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from sandbox.actions_common import ActionError
from sandbox.formats.base import BadRequest, Reply, iso_z

MAX_KEY_CHARS = 255


def errors(exc: ActionError) -> Reply:
    if exc.status == 422:
        return Reply(422, {"errors": [{"field": exc.field, "message": exc.message}]})
    return Reply(exc.status, {"errors": [{"code": exc.code, "message": exc.message, **exc.extra}]})


def unauthorized() -> Reply:
    return Reply(401, {"errors": [{"code": "unauthorized", "message": "missing or invalid bearer token"}]})


def server_error() -> Reply:
    return Reply(500, {"errors": [{"code": "internal_error", "message": "internal error"}]})


def unavailable() -> Reply:
    return Reply(503, {"errors": [{"code": "unavailable", "message": "service temporarily unavailable"}]},
                 headers={"Retry-After": "1"})


def rate_limited() -> Reply:
    return Reply(429, {"errors": [{"code": "rate_limited", "message": "too many requests"}]},
                 headers={"Retry-After": "1"})


def bad_request(exc: BadRequest) -> Reply:
    return Reply(422, {"errors": [{"field": exc.param, "message": exc.message}]})


def jsonable(value):
    """Datetimes as ISO-8601 UTC (`…Z`), dates as `YYYY-MM-DD`, recursively."""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def read_object(body: bytes) -> dict:
    try:
        parsed = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ActionError(422, "is not valid JSON", field="body") from None
    if not isinstance(parsed, dict):
        raise ActionError(422, "must be a JSON object", field="body")
    return parsed


def text(obj: dict, name: str, field: str | None = None, *, required: bool = True, limit: int = 100) -> str:
    value = obj.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ActionError(422, "is required (a string)" if value is None else "must be a non-empty string",
                          field=field or name)
    if len(value) > limit:
        raise ActionError(422, f"must be at most {limit} characters", field=field or name)
    return value.strip()


def section(obj: dict, name: str) -> dict:
    value = obj.get(name)
    if not isinstance(value, dict):
        raise ActionError(422, "is required (an object)", field=name)
    return value


def idempotent_create(world, scope: str, headers, body: bytes,
                      make: Callable[[dict], dict]) -> Reply:
    """Run `make(parsed_body)` once per Idempotency-Key; replay or refuse repeats (module doc)."""
    key = (headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > MAX_KEY_CHARS:
        return errors(ActionError(422, f"header is required (1–{MAX_KEY_CHARS} characters)",
                                  field="Idempotency-Key"))
    try:
        parsed = read_object(body)
        fingerprint = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
        payload, replayed = world.once(scope, key, fingerprint, lambda: jsonable(make(parsed)))
    except ActionError as exc:
        return errors(exc)
    if replayed:
        return Reply(200, payload, headers={"Idempotent-Replayed": "true"})
    return Reply(201, payload)


def answer(make: Callable[[], dict], status: int = 200) -> Reply:
    """A reply from a world call that may refuse (ActionError → its error shape)."""
    try:
        return Reply(status, jsonable(make()))
    except ActionError as exc:
        return errors(exc)
