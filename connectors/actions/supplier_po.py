"""raise_po: a purchase order through the supplier portal's write API (sandbox/formats/
supplier_actions.py documents it). The portal is the one Tower already reads (source
`supplier_portal`): same base URL, same token, so the PO's acknowledgement and production progress
flow back through that connector like any other PO's.

Params: supplier_id, sku, warehouse_id, quantity, need_by (ISO date or None), quick_response (bool, default true),
reference (optional; defaults to one derived from the idempotency key)."""
from __future__ import annotations

from connectors.actions.base import Sent
from connectors.actions.json_api import JsonApi, iso_day, param, whole
from connectors.http import HttpPolicy
from tower.config import Config

SOURCE = "supplier_portal"


class SupplierPoClient:
    kind = "raise_po"

    def __init__(self, base_url: str, token: str | None, policy: HttpPolicy):
        self.base = base_url.rstrip("/")
        self.api = JsonApi(token, policy)

    def preview(self, params: dict, key: str) -> dict:
        body = {
            "supplier_code": param(params, "supplier_id"),
            "sku": param(params, "sku"),
            "warehouse_id": param(params, "warehouse_id"),
            "quantity": whole(param(params, "quantity")),
            "need_by": iso_day(params.get("need_by")),
            "reference": str(params.get("reference") or f"tower:{key}"),
            "quick_response": bool(params.get("quick_response", True)),   # the B-03 default
        }
        return self.api.request("POST", f"{self.base}/purchase_orders", body)

    def send(self, params: dict, key: str) -> Sent:
        request = self.preview(params, key)
        reply, resp = self.api.call(request, key)
        po = reply.get("purchase_order") or {}
        cost = None
        if isinstance(po.get("unit_cost"), (int, float)) and isinstance(po.get("quantity"), int):
            cost = round(po["unit_cost"] * po["quantity"], 2)
        return Sent(external_id=po.get("po_number"), request=request, response=reply, acknowledged=False,
                    cost=cost, detail={"status": po.get("status"), "promised_ship_date": po.get("promised_ship_date"),
                                       "replayed": self.api.replayed(resp)})

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        request = self.api.request("POST", f"{self.base}/purchase_orders/{external_id}/cancel", None)
        reply, _ = self.api.call(request, key)
        po = reply.get("purchase_order") or {}
        return Sent(external_id=external_id, request=request, response=reply, acknowledged=True,
                    detail={"status": po.get("status")})

    def capacity(self, supplier_id: str | None = None) -> list[dict]:
        """The suppliers' capacity now (GET capacity): what a plan may order."""
        url = f"{self.base}/capacity" + (f"?supplier_code={supplier_id}" if supplier_id else "")
        reply, _ = self.api.call(self.api.request("GET", url))
        return list(reply.get("suppliers") or [])


def client(cfg: Config) -> SupplierPoClient:
    source = cfg.sources[SOURCE]
    return SupplierPoClient(source.options["base_url"], cfg.secret(SOURCE, "api_key"),
                            HttpPolicy.from_options(source.options))
