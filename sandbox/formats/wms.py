"""A warehouse management system's transfer API v1 (JSON, bearer token; issue 13).

- `POST /wms/v1/transfers` (header `Idempotency-Key`), body `{"sku", "from_warehouse",
  "to_warehouse", "quantity", "reference"}` → 201 `{"transfer": {"transfer_id", "status":
  "in_transit", "ship_at", "eta", "quantity", …}}`; 409 `insufficient_stock` with `available`.
  Stock leaves the source now and ships as an inbound tracking (truck inside the US, air between
  continents); it reaches the destination when delivered (about the ETA). Transfers cannot be undone.
- `GET /wms/v1/transfers/{id}` → the transfer as of now (in_transit → received)."""
from __future__ import annotations

from datetime import datetime

from sandbox.actions_common import ActionError
from sandbox.formats.base import Reply
from sandbox.formats.write_api import answer, errors, idempotent_create, text

SCOPE = "wms/transfers"


def create_transfer(world, now: datetime, headers, body: bytes) -> Reply:
    def make(b: dict) -> dict:
        transfer_id = world.place_transfer(text(b, "sku"), text(b, "from_warehouse"), text(b, "to_warehouse"),
                                           b.get("quantity"), now, reference=text(b, "reference", required=False))
        return {"transfer": world.transfer(transfer_id, now)}

    return idempotent_create(world, SCOPE, headers, body, make)


def get_transfer(world, now: datetime, transfer_id: str) -> Reply:
    view = world.transfer(transfer_id, now)
    if view is None:
        return errors(ActionError(404, f"no transfer {transfer_id}", code="not_found"))
    return answer(lambda: {"transfer": view})
