"""transfer_stock: move stock between warehouses through the WMS transfer API (sandbox/formats/
wms.py documents it). Stock leaves the source at once and reaches the destination at the ETA; a
transfer cannot be undone (compensate → None: send one back instead).

Params: sku, from_warehouse, to_warehouse, quantity, reference (optional). The URL is [actions]
wms_url in tower.toml."""
from __future__ import annotations

from connectors.actions.base import Sent
from connectors.actions.json_api import JsonApi, action_token, action_url, param, parse_time, whole
from connectors.http import HttpPolicy
from tower.config import Config

DEFAULT_URL = "{sandbox}/wms/v1"


def _sent(request: dict, reply: dict, replayed: bool = False) -> Sent:
    t = reply.get("transfer") or {}
    return Sent(external_id=t.get("transfer_id"), request=request, response=reply,
                acknowledged=t.get("status") in ("in_transit", "received"), eta=parse_time(t.get("eta")),
                detail={"status": t.get("status"), "ship_at": t.get("ship_at"), "quantity": t.get("quantity"),
                        "replayed": replayed})


class TransferClient:
    kind = "transfer_stock"

    def __init__(self, base_url: str, token: str | None, policy: HttpPolicy):
        self.base = base_url.rstrip("/")
        self.api = JsonApi(token, policy)

    def preview(self, params: dict, key: str) -> dict:
        body = {"sku": param(params, "sku"), "from_warehouse": param(params, "from_warehouse"),
                "to_warehouse": param(params, "to_warehouse"), "quantity": whole(param(params, "quantity")),
                "reference": str(params.get("reference") or f"tower:{key}")}
        return self.api.request("POST", f"{self.base}/transfers", body)

    def send(self, params: dict, key: str) -> Sent:
        request = self.preview(params, key)
        reply, resp = self.api.call(request, key)
        return _sent(request, reply, self.api.replayed(resp))

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        return None

    def status(self, external_id: str) -> Sent:
        request = self.api.request("GET", f"{self.base}/transfers/{external_id}")
        reply, _ = self.api.call(request)
        return _sent(request, reply)


def client(cfg: Config) -> TransferClient:
    url, on_sandbox = action_url(cfg, "wms_url", DEFAULT_URL)
    return TransferClient(url, action_token(cfg, "wms", on_sandbox),
                          HttpPolicy.from_options(cfg.raw.get("actions") or {}))
