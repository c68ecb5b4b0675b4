"""LEGACY — Shopify Admin REST (kind `shopify_rest`; `shopify` in older configs means this too).
Shopify made REST legacy in 2024-10 and new public apps must use GraphQL: use connectors/shopify_graphql.py
(kind `shopify_graphql`) unless a store still needs REST. Kept for existing setups and as the
reference the GraphQL connector's rows are compared with.

Merchants, SKU/location mapping, stock levels and orders, one pass per shop.

For every shop in `shops` (the `{shop}` placeholder in `base_url`):
- `merchants`: one row per shop handle (name from the handle; kind `own_store` for the
  `inventory_shop`, `s2b2c_merchant` for the others — the REST API has no such notion);
- `products.json` (incremental, cursor `products@<shop>`): variant `sku` ↔ `inventory_item_id`
  → `skus.inventory_item_id` (only those two columns: planning owns the rest of the SKU);
- `orders.json?status=any` (incremental, cursor `orders@<shop>`) → `orders` + `order_lines`.
  `promised_delivery_at` and `shipping_cost` come from the order's note attributes, the warehouse
  from the order's `location_id` via `warehouses.location_id` (until planning has named any
  warehouse, the orders cursor does not move, so they are mapped on a later run), `fulfilled_at`
  from the first fulfillment, `total_price` is `current_total_price` (after refunds and cancellations).
For the `inventory_shop` only (the shop whose locations hold the stock):
- `locations.json` → `warehouses.location_id` for locations matched to a planning warehouse (by
  location id, else by name);
- `inventory_levels.json` (incremental, cursor `inventory_levels@<shop>`) → `stock_observations`
  keyed by SKU and warehouse through that mapping. A level whose item or location is not mapped yet
  (planning not synced) is rejected *and the cursor is held before it*, so it is read again once the
  mapping exists: nothing is lost.
Pages follow the `Link: <…page_info=…>; rel="next"` header; 429s honour `Retry-After` (base), and the
`X-Shopify-Shop-Api-Call-Limit` header slows us down before the bucket overflows.
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Optional

import requests
from pydantic import field_validator

from connectors.base import Http, HttpError, Instant, Record, Run, Source, Table
from connectors.timezones import iso_z, parse_instant

LEAK_PER_S = 2.0  # Shopify standard plan: the bucket drains two calls a second
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class Variant(Record):
    sku: Optional[str] = None
    inventory_item_id: Optional[int] = None


class Product(Record):
    id: int
    updated_at: Instant
    variants: list[Variant] = []


class Location(Record):
    id: int
    name: Optional[str] = None


class InventoryLevel(Record):
    inventory_item_id: int
    location_id: int
    available: Optional[int] = None
    updated_at: Instant


class LineItem(Record):
    id: int
    sku: Optional[str] = None
    quantity: int
    price: Optional[Decimal] = None


class Fulfillment(Record):
    created_at: Optional[Instant] = None
    location_id: Optional[int] = None


class Address(Record):
    country_code: Optional[str] = None


class NoteAttribute(Record):
    name: str
    value: Optional[str] = None


class Order(Record):
    id: int
    name: Optional[str] = None
    order_number: Optional[int] = None
    created_at: Instant
    updated_at: Instant
    cancelled_at: Optional[Instant] = None
    currency: Optional[str] = None
    source_name: Optional[str] = None
    total_price: Optional[Decimal] = None
    current_total_price: Optional[Decimal] = None
    location_id: Optional[int] = None
    shipping_address: Optional[Address] = None
    note_attributes: list[NoteAttribute] = []
    line_items: list[LineItem] = []
    fulfillments: list[Fulfillment] = []

    @field_validator("note_attributes", "line_items", "fulfillments", mode="before")
    @classmethod
    def _none_is_empty(cls, v):
        return [] if v is None else v


def next_link(resp: requests.Response) -> str | None:
    """The `rel="next"` URL of a Shopify `Link` header, if any."""
    match = _NEXT_LINK.search(resp.headers.get("Link", ""))
    return match.group(1) if match else None


class ShopifySource(Source):
    kind = "shopify_rest"
    tables = (
        Table("merchants", ("merchant_id",), "merge"),
        Table("skus", ("sku",), "merge"),
        Table("warehouses", ("warehouse_id",), "merge"),
        Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None),
        Table("orders", ("order_id",), "merge"),
        Table("order_lines", ("order_id", "line_id"), "merge", None),
    )
    secret_key = "access_token"

    def http_headers(self, secret):
        return {"X-Shopify-Access-Token": secret or ""}

    def on_response(self, resp: requests.Response, sleep) -> None:
        """Slow down while the leaky bucket is 80 % full or more: wait until it has drained back
        below that mark (it leaks ~2 calls/s), so we never run into the 429 wall."""
        used_limit = resp.headers.get("X-Shopify-Shop-Api-Call-Limit", "")
        try:
            used, limit = (int(x) for x in used_limit.split("/"))
        except ValueError:
            return
        if limit and used >= 0.8 * limit:
            sleep(min((used - 0.8 * limit) / LEAK_PER_S + 0.5, self.policy.max_backoff_s))

    def secret(self) -> str | None:
        # Shopify calls its credential an access token; accept `api_key` too for symmetry.
        return self.config.secret(self.name, "access_token") or self.config.secret(self.name, "api_key")

    # ── helpers ─────────────────────────────────────────────────────────────────────────────────
    def _url(self, shop: str, resource: str) -> str:
        return self.options["base_url"].replace("{shop}", shop).rstrip("/") + f"/{resource}.json"

    def _pages(self, http: Http, run: Run, shop: str, resource: str, params: dict):
        url, query = self._url(shop, resource), dict(params)
        while url:
            run.check_cancel()
            body, resp = http.get_json(url, query)
            if not isinstance(body, dict) or not isinstance(body.get(resource), list):
                raise ValueError(f"unexpected Shopify response: no {resource} list")
            yield body[resource]
            url, query = next_link(resp), None  # the next link carries page_info and limit

    def _incremental(self, http, run, shop, resource, model, params, handle, advance=True) -> None:
        """Walk an `updated_at_min` list, validate each record and hand it to `handle`, then move
        the cursor to the newest `updated_at` (held before any record `handle` returns False for;
        not moved at all when `advance` is False)."""
        key = f"{resource}@{shop}"
        since = run.cursor_time(key)
        query = {"limit": int(self.options.get("page_size", 250)), **params}
        if since:
            query["updated_at_min"] = iso_z(since)
        records = (raw for page in self._pages(http, run, shop, resource, query) for raw in page)
        walk(run, key, records, model, lambda raw: f"{shop} {resource} {_ident(raw)}", handle,
             lambda rec: rec.updated_at, advance)

    # ── extract ─────────────────────────────────────────────────────────────────────────────────
    def extract(self, run: Run, http: Http) -> None:
        shops = list(self.options.get("shops") or [])
        inventory_shop = self.options.get("inventory_shop") or (shops[0] if shops else None)
        sku_by_item = {int(i): s for i, s in run.lookup("sku_inventory_items")}
        live = []
        for shop in shops:
            try:
                self._products(http, run, shop, sku_by_item)
            except HttpError as e:
                if e.status != 404:
                    raise
                # One mistyped or closed shop must not hold back the others' data.
                run.reject(f"shop {shop}", "not found (HTTP 404): check `shops`")
                continue
            live.append(shop)
            emit_merchant(shop, inventory_shop, run)
        known = run.lookup("warehouse_locations")
        warehouse_by_location = {int(loc): wid for wid, loc, _ in known if loc is not None}
        if inventory_shop in live:
            self._locations(http, run, inventory_shop, known, warehouse_by_location)
            if warehouse_by_location:
                self._inventory_levels(http, run, inventory_shop, sku_by_item, warehouse_by_location)
            else:  # said out loud (status partial): stock is not being read yet
                run.reject(f"{inventory_shop} inventory levels",
                           "no location is mapped to a warehouse yet (has planning synced?)")
        for shop in live:
            self._orders(http, run, shop, warehouse_by_location)

    def _products(self, http, run, shop, sku_by_item: dict) -> None:
        def handle(p: Product):
            for v in p.variants:
                if v.sku and v.inventory_item_id:
                    sku_by_item[v.inventory_item_id] = v.sku
                    run.emit("skus", {"sku": v.sku, "inventory_item_id": v.inventory_item_id})
        self._incremental(http, run, shop, "products", Product, {}, handle)

    def _locations(self, http, run, shop, known, by_location: dict[int, str]) -> None:
        """Add to `by_location` (location_id → warehouse_id) the stock-holding shop's locations
        that planning knows by name but not yet by Shopify id."""
        by_name = {(name or "").strip().lower(): wid for wid, _, name in known if name}
        for page in self._pages(http, run, shop, "locations", {}):
            for raw in page:
                loc = run.validate(Location, raw, f"{shop} location {_ident(raw)}")
                run.saw(1)
                if loc is None or loc.id in by_location:
                    continue
                wid = by_name.get((loc.name or "").strip().lower())
                if wid:  # planning knows the warehouse but not its Shopify location yet
                    by_location[loc.id] = wid
                    run.emit("warehouses", {"warehouse_id": wid, "location_id": loc.id})

    def _inventory_levels(self, http, run, shop, sku_by_item, warehouse_by_location) -> None:
        def handle(level: InventoryLevel):
            return emit_inventory_level(level, shop, sku_by_item, warehouse_by_location, run)
        params = {"location_ids": ",".join(str(i) for i in sorted(warehouse_by_location))}
        self._incremental(http, run, shop, "inventory_levels", InventoryLevel, params, handle)

    def _orders(self, http, run, shop, warehouse_by_location) -> None:
        def handle(o: Order):
            emit_order(o, shop, warehouse_by_location, run)
        # Before planning has named any warehouse, orders are stored without one and read again
        # next time (the cursor stays), so they get their warehouse once the mapping exists.
        self._incremental(http, run, shop, "orders", Order, {"status": "any"}, handle,
                          advance=bool(warehouse_by_location))


def walk(run: Run, key: str, records, model, label, handle, stamp, advance: bool = True) -> None:
    """Validate each raw record (`label(raw)` names it in errors) and hand it to `handle`, then move
    the cursor `key` to the newest `stamp(rec)`: held before any record `handle` returns False for
    (so it is seen again next run), not moved at all when `advance` is False. Both Shopify
    connectors walk their lists this way (REST pages, GraphQL pages or a bulk JSONL)."""
    since = run.cursor_time(key)
    newest, hold = since, None
    for raw in records:
        rec = run.validate(model, raw, label(raw))
        run.saw(1, stamp(rec) if rec else None)
        if rec is None:
            continue
        at = stamp(rec)
        newest = max(newest, at) if newest else at
        if handle(rec) is False:
            hold = min(hold, at) if hold else at
    cursor = min(newest, hold) if hold and newest else newest
    if cursor and advance:
        run.set_cursor(key, iso_z(cursor))


def emit_merchant(shop: str, inventory_shop: str | None, run: Run) -> None:
    """A shop as a merchant: the shop holding the stock is the platform's own store, every other
    one an S2B2C merchant it supplies (both Shopify connectors)."""
    run.emit("merchants", {
        "merchant_id": shop, "name": shop.replace("-", " ").replace("_", " ").title(),
        "kind": "own_store" if shop == inventory_shop else "s2b2c_merchant",
    })


def emit_inventory_level(level: InventoryLevel, shop: str, sku_by_item: dict, warehouse_by_location: dict,
                         run: Run) -> bool:
    """The `stock_observations` row of one level (poller and webhook loader alike); False, after
    counting it rejected, when its item or location is not mapped yet."""
    sku = sku_by_item.get(level.inventory_item_id)
    wid = warehouse_by_location.get(level.location_id)
    if sku is None or wid is None or level.available is None:
        missing = "inventory item" if sku is None else "location" if wid is None else "available"
        run.reject(f"{shop} inventory level {level.location_id}/{level.inventory_item_id}",
                   f"unmapped {missing}; will be read again")
        return False
    run.emit("stock_observations", {"sku": sku, "warehouse_id": wid,
                                    "observed_at": level.updated_at, "available": level.available})
    return True


def emit_order(o: Order, shop: str, warehouse_by_location: dict, run: Run) -> None:
    """The `orders` row and `order_lines` rows of one order (poller and webhook loader alike)."""
    notes = {a.name: a.value for a in o.note_attributes}
    location = o.location_id or next((f.location_id for f in o.fulfillments if f.location_id), None)
    fulfilled = [f.created_at for f in o.fulfillments if f.created_at]
    order_id = str(o.id)
    run.emit("orders", {
        "order_id": order_id,
        "order_number": o.name or (str(o.order_number) if o.order_number else None),
        "merchant_id": shop, "channel": o.source_name,
        "market": (o.shipping_address.country_code if o.shipping_address else None),
        "warehouse_id": warehouse_by_location.get(location) if location else None,
        "created_at": o.created_at,
        "promised_delivery_at": _instant_or_none(notes.get("promised_delivery_at")),
        "fulfilled_at": min(fulfilled) if fulfilled else None,
        "cancelled_at": o.cancelled_at,
        "total_price": o.current_total_price if o.current_total_price is not None else o.total_price,
        "shipping_cost": _decimal_or_none(notes.get("shipping_cost")),
        "currency": o.currency, "updated_at": o.updated_at,
    })
    for line in o.line_items:
        run.emit("order_lines", {"order_id": order_id, "line_id": str(line.id), "sku": line.sku,
                                 "quantity": line.quantity, "price": line.price})


def _instant_or_none(value) -> datetime | None:
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _decimal_or_none(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


def _ident(raw) -> str:
    return str(raw.get("id", "?"))[:40] if isinstance(raw, dict) else "?"

