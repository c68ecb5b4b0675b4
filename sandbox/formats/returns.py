"""AfterShip Returns API 2025-07: `GET /returns/2025-07/returns`.

The return object follows AfterShip's Returns model (2024-07 and later): `rma_number`,
`approval_status`, `order {external_id, order_number, order_name, country (alpha-3)}`,
`return_items[] {external_order_item_id, sku, product_title, intended_return_quantity,
return_reason …}`, `refunded_at`, `return_total_including_tax {amount, currency}`; the envelope is
AfterShip's `{meta, data}` with 5-digit meta codes (20000 = OK)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sandbox.formats import countries
from sandbox.formats.base import (
    BadRequest,
    Query,
    Reply,
    decode_token,
    iso_utc,
    keyset_page,
    money,
    parsed_times,
    sort_key,
    within,
)
from sandbox.model import Return

MAX_LIMIT = 100
STATUSES = {"submitted", "approved", "done", "rejected", "expired"}
REASON_TEXT = {
    "wrong_item": "Received the wrong item",
    "damaged": "Item arrived damaged",
    "not_as_described": "Not as described",
    "changed_mind": "Changed my mind",
    "late_delivery": "Arrived too late",
    "too_small": "Too small",
}


def _envelope(data, code: int, type_: str, message: str) -> dict:
    return {"meta": {"code": code, "type": type_, "message": message}, "data": data}


def error(status: int, message: str) -> Reply:
    types = {
        400: "BadRequest",
        401: "Unauthorized",
        404: "NotFound",
        429: "TooManyRequests",
        500: "InternalError",
    }
    return Reply(status, _envelope({}, status * 100, types.get(status, "InternalError"), message))


def unauthorized() -> Reply:
    return error(401, "Invalid API key.")


def rate_limited() -> Reply:
    return error(429, "You have exceeded the API call rate limit.")


def bad_request(exc: BadRequest) -> Reply:
    return error(400, f"{exc.param} is invalid: {exc.message}")


def _id(r: Return) -> str:
    # A stable 32-hex id derived from the RMA (AfterShip ids are UUIDs without dashes).
    return hashlib.md5(f"return:{r.rma_number}".encode()).hexdigest()


def return_json(r: Return) -> dict:
    approved = r.approval_status in ("approved", "done")
    return {
        "id": _id(r),
        "rma_number": r.rma_number,
        "filed_by": "shopper",
        "approval_status": r.approval_status,
        "approved_at": iso_utc(r.created_at) if approved else None,
        "rejected_at": iso_utc(r.updated_at) if r.approval_status == "rejected" else None,
        "resolved_at": iso_utc(r.updated_at) if r.approval_status == "done" else None,
        "refunded_at": iso_utc(r.refunded_at),
        "expired_at": iso_utc(r.updated_at) if r.approval_status == "expired" else None,
        "return_total_including_tax": {"amount": money(r.return_total), "currency": r.currency},
        "refunded_total": (
            {"amount": money(r.return_total), "currency": r.currency} if r.refunded_at else None
        ),
        "order": {
            "external_id": str(r.order_id),
            "order_number": r.order_number.lstrip("#"),
            "order_name": r.order_number if r.order_number.startswith("#") else f"#{r.order_number}",
            "country": countries.alpha3(r.country),
            "store": {"external_id": r.shop, "platform": "shopify"},
        },
        "return_items": [
            {
                "external_order_item_id": f"{r.order_id}-{i}",
                "sku": item.sku,
                "product_title": item.sku,
                "intended_return_quantity": item.quantity,
                "return_reason": REASON_TEXT.get(item.reason, item.reason),
                "return_reason_code": item.reason,
                "return_subreason": None,
                "return_reason_comment": None,
            }
            for i, item in enumerate(r.items, start=1)
        ],
        "created_at": iso_utc(r.created_at),
        "updated_at": iso_utc(r.updated_at),
    }


def _filters(q: Query, now: datetime) -> dict:
    f = {}
    for name in ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max"):
        value = q.time(name)
        f[name] = None if value is None else value.isoformat()
    statuses = q.csv_set("approval_status")
    if statuses and not statuses <= STATUSES:
        raise BadRequest("approval_status", f"must be one of {sorted(STATUSES)}")
    f["approval_status"] = sorted(statuses) if statuses else None
    asof = min(now, datetime.fromisoformat(f["updated_at_max"])) if f["updated_at_max"] else now
    f["updated_at_max"] = asof.isoformat()
    return f


def _matches(r: Return, f: dict) -> bool:
    """`f`: the walk's filters after `parsed_times`."""
    return (
        within(r.updated_at, f.get("updated_at_min"), f.get("updated_at_max"))
        and within(r.created_at, f.get("created_at_min"), f.get("created_at_max"))
        and (f.get("approval_status") is None or r.approval_status in f["approval_status"])
    )


def list_returns(world, now: datetime, q: Query) -> Reply:
    limit = q.int("limit", 10, hi=MAX_LIMIT, clamp=True)
    cursor = q.get("cursor")
    state = (
        decode_token(cursor, "cursor")
        if cursor
        else {"asof": now.isoformat(), "after": None, "f": _filters(q, now)}
    )
    f = parsed_times(state["f"])
    rows = [r for r in world.returns(now) if _matches(r, f)]
    page = keyset_page(rows, lambda r: sort_key(r.updated_at, r.rma_number), limit, state)
    data = {
        "returns": [return_json(r) for r in page.items],
        "pagination": {
            "total": page.total,
            "next_cursor": page.next_token,
            "has_next_page": page.next_token is not None,
        },
    }
    return Reply(
        200,
        _envelope(data, 20000, "OK", "The request was successfully processed by AfterShip."),
        records_path=("data", "returns"),
    )
