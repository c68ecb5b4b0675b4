"""A freight forwarder's booking API v1 (JSON, bearer token; issue 13).

- `POST /forwarder/v1/bookings` (header `Idempotency-Key`), body `{"mode": "air" | "sea",
  "origin": {"supplier_code"}, "destination": {"warehouse_id"}, "cargo": {"sku", "quantity",
  "po_number"?}, "reference"}` → 201 `{"booking": {"booking_id", "status": "confirmed", "mode",
  "cost": {"amount", "currency": "USD"}, "etd", "eta", "route": [UN/LOCODE ids], …}}`. With a
  `po_number` the PO ships by this booking when it is ready.
- `GET /forwarder/v1/bookings/{id}` → the booking as of now (confirmed → in_transit → delivered,
  the shipment's own ETA once it moves, `tracking_number`).
- `POST /forwarder/v1/bookings/{id}/cancel` → 200 cancelled (again: the same); 409 once departed."""
from __future__ import annotations

from datetime import datetime

from sandbox.actions_common import ActionError
from sandbox.formats.base import Reply
from sandbox.formats.write_api import answer, errors, idempotent_create, section, text

SCOPE = "forwarder/bookings"


def create_booking(world, now: datetime, headers, body: bytes) -> Reply:
    def make(b: dict) -> dict:
        cargo = section(b, "cargo")
        po_number = cargo.get("po_number")
        if po_number is not None and not isinstance(po_number, str):
            raise ActionError(422, "must be a string or null", field="cargo.po_number")
        booking_id = world.book_freight(
            text(b, "mode"), text(section(b, "origin"), "supplier_code", "origin.supplier_code"),
            text(section(b, "destination"), "warehouse_id", "destination.warehouse_id"),
            text(cargo, "sku", "cargo.sku"), cargo.get("quantity"), now, po_number=po_number or None,
            reference=text(b, "reference", required=False))
        return {"booking": world.booking(booking_id, now)}

    return idempotent_create(world, SCOPE, headers, body, make)


def get_booking(world, now: datetime, booking_id: str) -> Reply:
    view = world.booking(booking_id, now)
    if view is None:
        return errors(ActionError(404, f"no booking {booking_id}", code="not_found"))
    return answer(lambda: {"booking": view})


def cancel_booking(world, now: datetime, booking_id: str) -> Reply:
    def make() -> dict:
        world.cancel_booking(booking_id, now)
        return {"booking": world.booking(booking_id, now)}

    return answer(make)
