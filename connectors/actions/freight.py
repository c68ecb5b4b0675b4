"""book_freight: an air or sea booking with the forwarder's API (sandbox/formats/forwarder.py
documents it), optionally carrying a PO so that PO ships by the booked mode and route.

Params: mode (air | sea), origin_supplier_id, warehouse_id, sku, quantity, po_number (optional),
reference (optional). The URL is [actions] forwarder_url in tower.toml."""
from __future__ import annotations

from connectors.actions.base import Sent
from connectors.actions.json_api import JsonApi, action_token, action_url, param, parse_time, whole
from connectors.http import HttpPolicy
from tower.config import Config

DEFAULT_URL = "{sandbox}/forwarder/v1"


def _sent(request: dict, reply: dict, replayed: bool = False) -> Sent:
    b = reply.get("booking") or {}
    cost = (b.get("cost") or {}).get("amount")
    return Sent(external_id=b.get("booking_id"), request=request, response=reply,
                acknowledged=b.get("status") in ("confirmed", "in_transit", "delivered", "cancelled"),
                cost=float(cost) if isinstance(cost, (int, float)) else None, eta=parse_time(b.get("eta")),
                detail={"status": b.get("status"), "mode": b.get("mode"), "etd": b.get("etd"),
                        "route": b.get("route"), "replayed": replayed})


class FreightClient:
    kind = "book_freight"

    def __init__(self, base_url: str, token: str | None, policy: HttpPolicy):
        self.base = base_url.rstrip("/")
        self.api = JsonApi(token, policy)

    def preview(self, params: dict, key: str) -> dict:
        cargo = {"sku": param(params, "sku"), "quantity": whole(param(params, "quantity"))}
        if params.get("po_number"):
            cargo["po_number"] = params["po_number"]
        body = {"mode": param(params, "mode"), "origin": {"supplier_code": param(params, "origin_supplier_id")},
                "destination": {"warehouse_id": param(params, "warehouse_id")}, "cargo": cargo,
                "reference": str(params.get("reference") or f"tower:{key}")}
        return self.api.request("POST", f"{self.base}/bookings", body)

    def send(self, params: dict, key: str) -> Sent:
        request = self.preview(params, key)
        reply, resp = self.api.call(request, key)
        return _sent(request, reply, self.api.replayed(resp))

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        request = self.api.request("POST", f"{self.base}/bookings/{external_id}/cancel", None)
        reply, _ = self.api.call(request, key)
        return _sent(request, reply)

    def status(self, external_id: str) -> Sent:
        """The booking as of now (confirmed → in_transit → delivered, the shipment's own ETA)."""
        request = self.api.request("GET", f"{self.base}/bookings/{external_id}")
        reply, _ = self.api.call(request)
        return _sent(request, reply)


def client(cfg: Config) -> FreightClient:
    url, on_sandbox = action_url(cfg, "forwarder_url", DEFAULT_URL)
    return FreightClient(url, action_token(cfg, "forwarder", on_sandbox),
                         HttpPolicy.from_options(cfg.raw.get("actions") or {}))
