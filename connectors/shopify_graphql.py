"""Shopify GraphQL Admin API (kind `shopify_graphql`, dated version in `api_version`, default
2026-10): the same rows as the legacy REST connector (connectors/shopify.py), plus every inventory
quantity (available, on_hand, committed, incoming, reserved) in stock_quantities.

Per shop in `shops` (`{shop}` and `{version}` in `base_url`):
- `productVariants` (cursor `productVariants@<shop>`): sku ↔ inventory item → `skus.inventory_item_id`;
- `orders` (cursor `orders@<shop>`) with line items, fulfillments and assigned locations →
  `orders` + `order_lines`, mapped exactly as REST maps them (ids are the legacy numeric ids);
and for the `inventory_shop`: `locations` → `warehouses.location_id` (matched by id, else by name),
and each mapped location's `inventoryLevels` (cursor `inventory_levels@<shop>`) → `stock_observations`
(available) and `stock_quantities` (every state), same key, same run.

First sync (no cursor), a catch-up with more than `bulk_above` (100) changed orders, and every run
while `backfill = true` run a bulk operation: `bulkOperationRunQuery` → poll `bulkOperation(id:)` every `bulk_poll_s` → download the
JSONL (without the access token: it is a signed URL) → the rows in one transaction, as every run.
A FAILED, CANCELED or EXPIRED operation, or a result URL that expired before the download, fails
the run with a message saying so; nothing is written and the cursors stay, so the next run starts a
new operation. Later runs page with `query: "updated_at:>='<cursor>'"` and `sortKey: UPDATED_AT`.
Mapping holds (planning not synced yet) work as in REST: the cursor is held, nothing is lost.
Throttling and GraphQL errors: see connectors/shopify_graphql_client.py.
"""
from __future__ import annotations

import json
from decimal import Decimal

from connectors import shopify_graphql_models as m
from connectors.base import Http, HttpError, Run, Source, Table
from connectors.shopify import _decimal_or_none, _instant_or_none, emit_merchant, walk
from connectors.shopify_graphql_client import GraphQLFailed, ShopifyGraphQL
from connectors.timezones import iso_z

API_VERSION = "2026-10"
FINAL = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}


class BulkFailed(GraphQLFailed):
    """A bulk operation that did not deliver its results."""


class ShopifyGraphQLSource(Source):
    kind = "shopify_graphql"
    tables = (
        Table("merchants", ("merchant_id",), "merge"),
        Table("skus", ("sku",), "merge"),
        Table("warehouses", ("warehouse_id",), "merge"),
        Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None),
        Table("stock_quantities", ("sku", "warehouse_id", "observed_at"), "append", None),
        Table("orders", ("order_id",), "merge"),
        Table("order_lines", ("order_id", "line_id"), "merge", None),
    )
    secret_key = "access_token"

    def secret(self) -> str | None:
        return self.config.secret(self.name, "access_token") or self.config.secret(self.name, "api_key")

    def make_http(self, cancel=None) -> Http:
        """Plain HTTP for bulk result files: signed URLs that must not get the access token. The
        GraphQL endpoint gets its own client (with the token) per shop in `extract`."""
        secret = self.secret()
        return Http(self.policy, secrets=[secret] if secret else [], cancel=cancel)

    # ── plumbing ────────────────────────────────────────────────────────────────────────────────
    def _endpoint(self, shop: str) -> str:
        version = str(self.options.get("api_version", API_VERSION))
        base = self.options["base_url"].replace("{shop}", shop).replace("{version}", version).rstrip("/")
        return base if base.endswith("graphql.json") else base + "/graphql.json"

    def _opt(self, name: str, default):
        return type(default)(self.options.get(name, default))

    def _paged(self, client: ShopifyGraphQL, run: Run, name, document, variables, path):
        """Yield the nodes of a connection at `path` in each page's data, page after page."""
        after = None
        while True:
            run.check_cancel()
            data = client.execute(name, document, {**variables, "after": after})
            if path[0] == "location" and "location" in data and data["location"] is None:
                return  # a location that no longer exists
            conn = data
            for key in path:
                conn = conn.get(key) if isinstance(conn, dict) else None
            if not isinstance(conn, dict) or not isinstance(conn.get("nodes"), list):
                raise GraphQLFailed(f"{name}: malformed answer (no {'.'.join(path)}.nodes list)")
            yield from conn["nodes"]
            page = m.PageInfo.model_validate(conn.get("pageInfo") or {})
            if not page.hasNextPage or not page.endCursor:
                return
            after = page.endCursor

    def _bulk(self, client: ShopifyGraphQL, http: Http, run: Run, what: str, query: str) -> list[dict]:
        """Run one bulk query to the end and return its JSONL lines (parsed)."""
        data = client.execute("RunBulk", m.RUN_BULK, {"query": query})
        payload = data.get("bulkOperationRunQuery")
        if not isinstance(payload, dict):
            raise BulkFailed(f"bulk {what}: malformed answer (no bulkOperationRunQuery)")
        if payload.get("userErrors"):
            raise BulkFailed(f"bulk {what}: Shopify refused the bulk query: "
                             f"{payload['userErrors'][0].get('message', '?')}")
        op = payload.get("bulkOperation") or {}
        if not op.get("id"):
            raise BulkFailed(f"bulk {what}: malformed answer (no bulk operation was created)")
        poll_s, deadline = self._opt("bulk_poll_s", 2.0), self._opt("bulk_timeout_s", 900.0)
        waited, status = 0.0, op
        while True:
            status = client.execute("BulkStatus", m.BULK_STATUS, {"id": op["id"]}).get("bulkOperation")
            if not isinstance(status, dict) or not isinstance(status.get("status"), str):
                raise BulkFailed(f"bulk {what}: malformed answer (no bulkOperation status for {op['id']})")
            if status["status"] in FINAL:
                break
            if waited >= deadline:
                raise BulkFailed(f"bulk {what}: operation {op['id']} still {status.get('status')} after "
                                 f"{deadline:.0f} s; nothing written, the next run starts a new one")
            client.sleep(poll_s)
            waited += poll_s
        if status["status"] != "COMPLETED":
            code = f" ({status['errorCode']})" if status.get("errorCode") else ""
            raise BulkFailed(f"bulk {what}: operation {op['id']} {status['status']}{code}; nothing written, "
                             "the next run starts a new one")
        if not status.get("url"):  # Shopify gives no file when nothing matched
            return []
        try:
            text, _ = http.get_text(status["url"])
        except HttpError as e:
            if e.status in (403, 404, 410):
                raise BulkFailed(f"bulk {what}: the result file of {op['id']} expired before it was read "
                                 f"(HTTP {e.status}); nothing written, the next run starts a new one") from None
            raise
        lines = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    raise BulkFailed(f"bulk {what}: line {n} of the result file is not JSON") from None
        return lines

    # ── extract ─────────────────────────────────────────────────────────────────────────────────
    def extract(self, run: Run, http: Http) -> None:
        shops = list(self.options.get("shops") or [])
        inventory_shop = self.options.get("inventory_shop") or (shops[0] if shops else None)
        sku_by_item = {int(i): s for i, s in run.lookup("sku_inventory_items")}
        clients = {}
        try:
            live = []
            for shop in shops:
                clients[shop] = ShopifyGraphQL(self._endpoint(shop), self.secret(), self.policy, http.cancel)
                try:
                    self._variants(clients[shop], http, run, shop, sku_by_item)
                except HttpError as e:
                    if e.status != 404:
                        raise
                    run.reject(f"shop {shop}", "not found (HTTP 404): check `shops`")
                    continue
                live.append(shop)
                emit_merchant(shop, inventory_shop, run)
            known = run.lookup("warehouse_locations")
            by_location = {int(loc): wid for wid, loc, _ in known if loc is not None}
            if inventory_shop in live:
                client = clients[inventory_shop]
                self._locations(client, run, inventory_shop, known, by_location)
                if by_location:
                    self._levels(client, http, run, inventory_shop, sku_by_item, by_location)
                else:
                    run.reject(f"{inventory_shop} inventory levels",
                               "no location is mapped to a warehouse yet (has planning synced?)")
            for shop in live:
                self._orders(clients[shop], http, run, shop, by_location)
        finally:
            for client in clients.values():
                client.close()

    @staticmethod
    def _walk(run, key, records, model, what, handle, advance=True) -> None:
        """shopify.walk over GraphQL records (stamped by updatedAt)."""
        walk(run, key, records, model,
             lambda raw: f"{what} {str(raw.get('id', '?'))[:60] if isinstance(raw, dict) else '?'}", handle,
             lambda rec: rec.updatedAt, advance)

    def _records(self, client, http, run, key, what, bulk_query, paged, many=None) -> tuple[list | object, bool]:
        """(raw records, whether they came from a bulk operation). `many(search)`: whether so many
        records changed that a bulk operation beats paging (paging is throttled by query cost)."""
        since = run.cursor_time(key)
        search = f"updated_at:>='{iso_z(since)}'" if since else None
        if since is None or self.options.get("backfill") or (many and many(search)):
            return self._bulk(client, http, run, what, bulk_query(search)), True
        return paged(search), False

    def _variants(self, client, http, run, shop, sku_by_item) -> None:
        def handle(v: m.Variant):
            item = m.legacy_id(v.inventoryItem.id)
            if v.sku and item:
                sku_by_item[item] = v.sku
                run.emit("skus", {"sku": v.sku, "inventory_item_id": item})
        key = f"productVariants@{shop}"
        records, _ = self._records(client, http, run, key, f"{shop} variants", m.bulk_variants, lambda q: (
            self._paged(client, run, "Variants", m.VARIANTS, {"first": self._opt("page_size", 100), "query": q},
                        ("productVariants",))))
        self._walk(run, key, records, m.Variant, f"{shop} variant", handle)

    def _locations(self, client, run, shop, known, by_location: dict[int, str]) -> None:
        by_name = {(name or "").strip().lower(): wid for wid, _, name in known if name}
        for raw in self._paged(client, run, "Locations", m.LOCATIONS, {"first": 100}, ("locations",)):
            loc = run.validate(m.Location, raw, f"{shop} location {str(raw.get('id', '?'))[:60]}")
            run.saw(1)
            ident = m.legacy_id(loc.id) if loc else None
            if ident is None or ident in by_location:
                continue
            wid = by_name.get((loc.name or "").strip().lower())
            if wid:  # planning knows the warehouse but not its Shopify location yet
                by_location[ident] = wid
                run.emit("warehouses", {"warehouse_id": wid, "location_id": ident})

    def _levels(self, client, http, run, shop, sku_by_item, by_location) -> None:
        def handle(level: m.InventoryLevel):
            item = m.legacy_id(level.item.id)
            location = m.legacy_id(level.location.id if level.location else level.id)
            sku = sku_by_item.get(item) if item else None
            wid = by_location.get(location)
            available = level.quantity("available")
            if sku is None or wid is None or available is None:
                missing = "inventory item" if sku is None else "location" if wid is None else "available"
                run.reject(f"{shop} inventory level {location}/{item}", f"unmapped {missing}; will be read again")
                return False
            key = {"sku": sku, "warehouse_id": wid, "observed_at": level.updatedAt}
            run.emit("stock_observations", {**key, "available": available})
            run.emit("stock_quantities", {**key, **{name: level.quantity(name) for name in m.QUANTITY_NAMES}})

        def paged(search):
            for location in sorted(by_location):
                yield from self._paged(client, run, "Levels", m.LEVELS, {
                    "location": f"gid://shopify/Location/{location}", "first": self._opt("page_size", 100),
                    "query": search}, ("location", "inventoryLevels"))

        key = f"inventory_levels@{shop}"
        records, bulk = self._records(client, http, run, key, f"{shop} inventory levels",
                                      lambda q: m.bulk_levels(), paged)
        if bulk:  # levels are the child lines of the mapped locations' lines
            wanted = {f"gid://shopify/Location/{loc}" for loc in by_location}
            records = [r for r in records if isinstance(r, dict) and r.get("__parentId") in wanted]
        self._walk(run, key, records, m.InventoryLevel, f"{shop} inventory level", handle)

    def _orders(self, client, http, run, shop, by_location) -> None:
        lines_per_order = self._opt("line_items_per_order", 10)

        def paged(search):
            document = m.orders_query(lines_per_order)
            for raw in self._paged(client, run, "Orders", document, {
                    "first": self._opt("orders_page_size", 15), "query": search}, ("orders",)):
                more = ((raw.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage") \
                    if isinstance(raw, dict) and isinstance(raw.get("lineItems"), dict) else False
                yield {**raw, "moreLineItems": bool(more)} if isinstance(raw, dict) else raw

        def handle(o: m.Order):
            if o.moreLineItems:
                run.reject(f"{shop} order {o.name}", f"more than {lines_per_order} line items: "
                           "raise line_items_per_order; will be read again")
                return False
            notes = {a.key: a.value for a in o.customAttributes}
            assigned = next((f.assignedLocation.location.id for f in o.fulfillmentOrders
                             if f.assignedLocation and f.assignedLocation.location), None)
            location = m.legacy_id(assigned) or next(
                (m.legacy_id(f.location.id) for f in o.fulfillments if f.location), None)
            fulfilled = [f.createdAt for f in o.fulfillments if f.createdAt]
            order_id = str(o.legacyResourceId)
            total = o.currentTotalPriceSet or o.totalPriceSet
            run.emit("orders", {
                "order_id": order_id, "order_number": o.name, "merchant_id": shop, "channel": o.sourceName,
                "market": o.shippingAddress.countryCodeV2 if o.shippingAddress else None,
                "warehouse_id": by_location.get(location) if location else None,
                "created_at": o.createdAt,
                "promised_delivery_at": _instant_or_none(notes.get("promised_delivery_at")),
                "fulfilled_at": min(fulfilled) if fulfilled else None, "cancelled_at": o.cancelledAt,
                "total_price": total.shopMoney.amount if total else None,
                "shipping_cost": _decimal_or_none(notes.get("shipping_cost")),
                "currency": o.currencyCode, "updated_at": o.updatedAt,
            })
            for line in o.lineItems:
                price = line.originalUnitPriceSet.shopMoney.amount if line.originalUnitPriceSet else None
                run.emit("order_lines", {"order_id": order_id, "line_id": str(m.legacy_id(line.id)),
                                         "sku": line.sku, "quantity": line.quantity,
                                         "price": Decimal(price) if price is not None else None})

        key = f"orders@{shop}"
        def many(search) -> bool:
            counted = client.execute("OrdersCount", m.ORDERS_COUNT, {"query": search}).get("ordersCount") or {}
            return int(counted.get("count") or 0) > self._opt("bulk_above", 100)

        records, bulk = self._records(client, http, run, key, f"{shop} orders", m.bulk_orders, paged, many)
        if bulk:
            records = _nest_bulk(records, {"LineItem": "lineItems", "FulfillmentOrder": "fulfillmentOrders"})
        # Before planning has named any warehouse, orders are stored without one and read again.
        self._walk(run, key, records, m.Order, f"{shop} order", handle, advance=bool(by_location))


def _nest_bulk(lines: list[dict], children: dict[str, str]) -> list[dict]:
    """Bulk JSONL → nested records: a line with `__parentId` goes into its parent's list named, in
    `children`, by the type in its gid (gid://shopify/<Type>/<id>); other child lines are dropped."""
    parents: dict[str, dict] = {}
    out = []
    for line in lines:
        if not isinstance(line, dict):
            out.append(line)  # validation rejects it with a clear message
            continue
        if "__parentId" not in line:
            record = dict(line)
            parents[str(record.get("id"))] = record
            out.append(record)
            continue
        parts = str(line.get("id") or "").split("/")
        field = children.get(parts[3]) if len(parts) > 4 else None
        parent = parents.get(str(line["__parentId"]))
        if parent is not None and field:
            parent.setdefault(field, []).append({k: v for k, v in line.items() if k != "__parentId"})
    return out
