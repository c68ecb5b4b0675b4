"""Supplier portal v1, write side (defined by Tower, JSON; issue 13). Same bearer token as the GETs.

- `POST /supplier-portal/v1/purchase_orders` (header `Idempotency-Key`), body `{"supplier_code",
  "sku", "warehouse_id", "quantity", "need_by": "YYYY-MM-DD" | null, "reference", "quick_response"}`
  → 201 `{"purchase_order": {"po_number", "supplier_code", "sku", "warehouse_id", "quantity",
  "unit_cost", "currency": "USD", "status": "submitted", "promised_ship_date", "created_at", …}}`;
  409 `capacity_exceeded` with `free_capacity` (units); 422 names the field. The PO appears in
  `GET purchase_orders` once the supplier acknowledges it at its next progress report.
- `POST /supplier-portal/v1/purchase_orders/{po_number}/cancel` → 200 (`status: cancelled`; again:
  the same), 409 `already_shipped`, 404 unknown.
- `GET /supplier-portal/v1/capacity[?supplier_code=]` → `{"suppliers": [{"supplier_code",
  "capacity_per_day", "committed_per_day", "free_per_day", "quick_response_lead_time_days", …}]}`."""
from __future__ import annotations

from datetime import date, datetime

from sandbox import catalog as cat
from sandbox.actions_common import ActionError
from sandbox.formats.base import Query, Reply
from sandbox.formats.write_api import answer, errors, idempotent_create, text

SCOPE = "supplier-portal/purchase_orders"


def _need_by(value) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad_date()
    except ValueError:
        return _bad_date()


def _bad_date():
    raise ActionError(422, "must be a date YYYY-MM-DD or null", field="need_by")


def _po_reply(world, number: str) -> dict:
    return {"purchase_order": {**world.raised_po(number), "currency": "USD"}}


def create_po(world, now: datetime, headers, body: bytes) -> Reply:
    def make(b: dict) -> dict:
        quick = b.get("quick_response", False)
        if not isinstance(quick, bool):
            raise ActionError(422, "must be true or false", field="quick_response")
        number = world.place_po(text(b, "supplier_code"), text(b, "sku"), text(b, "warehouse_id"),
                                b.get("quantity"), now, quick_response=quick, need_by=_need_by(b.get("need_by")),
                                reference=text(b, "reference", required=False))
        return _po_reply(world, number)

    return idempotent_create(world, SCOPE, headers, body, make)


def cancel_po(world, now: datetime, number: str) -> Reply:
    def make() -> dict:
        world.cancel_po(number, now)
        return {"purchase_order": {**world.cancelled_po(number), "currency": "USD"}}

    return answer(make)


def capacity(world, now: datetime, q: Query) -> Reply:
    code = q.get("supplier_code")
    if code is not None and code not in cat.SUPPLIER_BY_CODE:
        return errors(ActionError(422, f"unknown supplier {code!r}", field="supplier_code"))
    return Reply(200, {"suppliers": world.capacity(now, code)})
