"""What a verified delivery means for Tower's tables: the same payload models and row mappings the
pollers use (connectors.aftership / shopify / returns), so a webhook and a later poll of the same
record write the same rows, and the same upserts (merge tables keep the newest `updated_at`, so an
older update arriving late changes nothing).

- AfterShip Tracking (`tracking_update`, `edd_revise` …): `msg` is the tracking → shipments +
  tracking_events.
- AfterShip Returns (`return.*`): `data` is the return → returns.
- 17TRACK (`TRACKING_UPDATED`): `data` is the tracked number with its track_info, mapped by
  connectors.track17.parse_push → shipments + tracking_events, as the 17TRACK poller writes them
  (a push carries no registration time, so it leaves `created_at` as the poll stored it).
  `TRACKING_STOPPED` only says tracking ended: skipped.
- Shopify: `orders/*` topics carry the whole order → orders + order_lines (a fulfillment arrives as
  `orders/updated` / `orders/fulfilled` with its fulfillments); `inventory_levels/update|connect`
  → stock_observations through the SKU and location mapping the pollers built. Other topics
  (e.g. `fulfillments/create`, which lacks the order) are recorded as skipped: polling reconciles.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from connectors.aftership import AfterShipSource, Tracking, map_tracking
from connectors.records import Run, Table
from connectors.returns import Return, ReturnsSource, emit_return
from connectors.shopify import InventoryLevel, Order, ShopifySource, emit_inventory_level, emit_order
from connectors.track17 import Track17Source, parse_push
from connectors.webhooks.spool import Delivery

TABLES: dict[str, tuple[Table, ...]] = {
    "aftership": AfterShipSource.tables,
    "returns": ReturnsSource.tables,
    "shopify": ShopifySource.tables,
    "track17": Track17Source.tables,
}
SHOP_DOMAIN_SUFFIX = ".myshopify.com"


class Skip(Exception):
    """A valid delivery with nothing for Tower to apply (unused topic, unmapped item …)."""


class Invalid(Exception):
    """A signed delivery whose payload does not validate."""


@dataclass
class Mappings:
    """The poller-built id mappings Shopify deliveries need, read once per loader batch."""
    run: Run
    _sku_by_item: dict | None = None
    _warehouse_by_location: dict | None = None
    shops: set = field(default_factory=set)

    @property
    def sku_by_item(self) -> dict:
        if self._sku_by_item is None:
            self._sku_by_item = {int(i): s for i, s in self.run.lookup("sku_inventory_items")}
        return self._sku_by_item

    @property
    def warehouse_by_location(self) -> dict:
        if self._warehouse_by_location is None:
            self._warehouse_by_location = {int(loc): wid for wid, loc, _ in self.run.lookup("warehouse_locations")
                                           if loc is not None}
        return self._warehouse_by_location


def rows_for(d: Delivery, run: Run, maps: Mappings) -> dict[str, list[dict]]:
    """The rows one delivery writes, per table; raises Skip or Invalid."""
    try:
        body = json.loads(d.body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("body is not JSON") from None
    if not isinstance(body, dict):
        raise Invalid("body is not a JSON object")
    before = run.rejected
    run.rows = {}
    if d.kind == "aftership":
        t = run.validate(Tracking, body.get("msg"), f"tracking event {d.delivery_id}")
        if t is None:
            raise Invalid(run.errors[-1] if run.errors else "msg is not a tracking")
        map_tracking(t, run)
    elif d.kind == "returns":
        r = run.validate(Return, body.get("data"), f"return event {d.delivery_id}")
        if r is None:
            raise Invalid(run.errors[-1] if run.errors else "data is not a return")
        emit_return(r, run)
    elif d.kind == "shopify":
        _shopify(d, body, run, maps)
    elif d.kind == "track17":
        _track17(d, run)
    else:
        raise Skip(f"no mapping for kind {d.kind}")
    if run.rejected > before and not any(run.rows.values()):
        raise Skip(run.errors[-1] if run.errors else "nothing to apply")
    return run.rows


def _shopify(d: Delivery, body: dict, run: Run, maps: Mappings) -> None:
    topic = (d.topic or "").strip()
    domain = str(d.headers.get("X-Shopify-Shop-Domain") or "")
    shop = domain[: -len(SHOP_DOMAIN_SUFFIX)] if domain.endswith(SHOP_DOMAIN_SUFFIX) else domain
    if maps.shops and shop not in maps.shops:
        raise Skip(f"shop {shop or '?'} is not configured")
    if topic.startswith("orders/") and topic != "orders/delete":
        o = run.validate(Order, body, f"{shop} order event {d.delivery_id}")
        if o is None:
            raise Invalid(run.errors[-1])
        emit_order(o, shop, maps.warehouse_by_location, run)
    elif topic in ("inventory_levels/update", "inventory_levels/connect"):
        level = run.validate(InventoryLevel, body, f"{shop} inventory level event {d.delivery_id}")
        if level is None:
            raise Invalid(run.errors[-1])
        if not emit_inventory_level(level, shop, maps.sku_by_item, maps.warehouse_by_location, run):
            raise Skip(run.errors[-1] + " (polling reconciles)")
    else:
        raise Skip(f"topic {topic or '?'} is not used by Tower (polling reconciles)")


def _track17(d: Delivery, run: Run) -> None:
    try:
        event, mapped = parse_push(d.body, run.now)
    except ValueError as e:  # pydantic's ValidationError is a ValueError too
        raise Invalid(str(e).splitlines()[0]) from None
    if mapped is None:
        raise Skip(f"17TRACK {event}: nothing to apply")
    shipment = dict(mapped.shipment)
    if shipment.get("created_at") is None:
        shipment.pop("created_at")  # unknown in a push: keep what the poll stored
    for row in mapped.events:
        run.emit("tracking_events", row)
    run.emit("shipments", shipment)
