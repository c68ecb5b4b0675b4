"""Shopify GraphQL Admin API (2026-10): the schema subset Tower reads, over the same world as REST.

`POST /shopify/{shop}/admin/api/{version}/graphql.json` with `{"query", "variables"}`. Queries are
parsed, validated and executed by graphql-core against `shopify_graphql.graphql` (Shopify's names
and types); the objects are built from the REST shapes of sandbox/formats/shopify.py, so both APIs
report the same numbers. Connections take `first`/`after` (max 250; `first` is required outside bulk
operations), answer `nodes`, `edges {cursor node}` and `pageInfo`, and filter with Shopify's search
syntax on `updated_at` / `created_at` (`updated_at:>='2026-11-20T00:00:00Z'`). Cursors carry the
instant the walk began, so a walk serves each record at most once while the world moves on.

Inventory quantities: the world simulates `available` only; the other states are derived from each
level by the fixed rule in `quantities()` (so they change exactly when the level does):
committed = available × (item id mod 4) // 20, reserved = (item id + location id) mod 3,
incoming = 0 when available ≥ 40 else 24 × (1 + item id mod 3), damaged = safety_stock =
quality_control = 0, on_hand = available + committed + reserved (Shopify's definition).

Cost (`query_cost`): Shopify's calculated query cost, simplified: a scalar costs 0, an object 1, a
connection 2 + first × its items' cost, a mutation 10. Throttling and bulk operations live in
sandbox/formats/shopify_graphql_ops.py."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import graphql
from graphql import GraphQLError

from sandbox.formats import shopify
from sandbox.formats.base import BadRequest, decode_token, encode_token, iso_z, parse_time, sort_key
from sandbox.model import Merchant
from sandbox.world_storefront import customer_id

API_VERSION = "2026-10"
MAX_PAGE = 250
QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved", "damaged",
                  "safety_stock", "quality_control")
SCHEMA = graphql.build_schema((Path(__file__).with_name("shopify_graphql.graphql")).read_text("utf-8"))
_TERM = re.compile(r"^(?P<field>\w+):(?P<op>>=|<=|>|<)?'?(?P<value>[^']+?)'?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_ID = re.compile(r"^gid://shopify/(?P<kind>\w+)/(?P<id>\d+)$")


def gid_number(value: str, kind: str) -> int | None:
    """The number in a gid of that kind ("gid://shopify/Order/12" -> 12), None for anything else."""
    m = _ID.match(value or "")
    return int(m["id"]) if m and m["kind"] == kind else None


def gid(kind: str, ident) -> str:
    return f"gid://shopify/{kind}/{ident}"


def quantities(item_id: int, location_id: int, available: int) -> dict[str, int]:
    """Every inventory state of one level (see the module docstring for the rule)."""
    committed = max(available, 0) * (item_id % 4) // 20
    reserved = (item_id + location_id) % 3
    incoming = 0 if available >= 40 else 24 * (1 + item_id % 3)
    return {"available": available, "committed": committed, "reserved": reserved, "incoming": incoming,
            "damaged": 0, "safety_stock": 0, "quality_control": 0,
            "on_hand": available + committed + reserved}


# --- search filters and paging ------------------------------------------------------------------


def search_filter(text: str | None) -> list[tuple[str, str, datetime]]:
    """Shopify search syntax, the part Tower uses: `updated_at` / `created_at` with >, >=, <, <=,
    terms joined by spaces or AND."""
    terms = []
    for raw in re.split(r"\s+(?:AND\s+)?", (text or "").strip()):
        if not raw:
            continue
        m = _TERM.match(raw)
        if not m or m["field"] not in ("updated_at", "created_at"):
            raise GraphQLError(f"Invalid search term: {raw!r} (the sandbox filters on updated_at and created_at)")
        try:
            when = parse_time(m["value"], m["field"])
        except BadRequest as e:
            raise GraphQLError(f"Invalid search value for {m['field']}: {e.message}") from None
        terms.append((m["field"], m["op"] or ":", when))
    return terms


def _matches(terms, created: datetime, updated: datetime) -> bool:
    for field, op, when in terms:
        value = updated if field == "updated_at" else created
        ok = {">": value > when, ">=": value >= when, "<": value < when, "<=": value <= when,
              ":": value == when}[op]
        if not ok:
            return False
    return True


def connection(info, items: list, key, first=None, after=None, query=None, times=None) -> dict:
    """One page of `items` (sorted by `key`), filtered by `query` on `times(item)` → (created,
    updated), as a Shopify connection of the dicts `build(item)` makes (items are built lazily)."""
    ctx = info.context
    if after:
        try:
            state = decode_token(after, "after")
        except BadRequest:
            raise GraphQLError("Invalid cursor", extensions={"code": "BAD_USER_INPUT"}) from None
    else:
        state = {"asof": ctx["now"].isoformat(), "after": None, "f": {}}
    asof = datetime.fromisoformat(state["asof"])
    terms = search_filter(query)
    if ctx.get("bulk"):
        first = None
    elif first is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_USER_INPUT"})
    elif not 0 < first <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}", extensions={"code": "BAD_USER_INPUT"})
    kept = []
    for item, build in items:
        created, updated = times(item) if times else (None, None)
        if updated is not None and (updated > asof or not _matches(terms, created, updated)):
            continue
        kept.append((key(item), build))
    kept.sort(key=lambda kb: kb[0])
    if state["after"] is not None:
        kept = [kb for kb in kept if kb[0] > state["after"]]
    page = kept if first is None else kept[:first]
    edges = [{"cursor": encode_token({**state, "after": k}), "node": build()} for k, build in page]
    return {
        "nodes": [e["node"] for e in edges],
        "edges": edges,
        "pageInfo": {"hasNextPage": len(kept) > len(page), "hasPreviousPage": state["after"] is not None,
                     "startCursor": edges[0]["cursor"] if edges else None,
                     "endCursor": edges[-1]["cursor"] if edges else None},
    }


# --- objects (built from the REST shapes, so both APIs agree) ------------------------------------


def _money_bag(price_set: dict) -> dict:
    def v2(m):
        return {"amount": m["amount"], "currencyCode": m["currency_code"]}
    return {"shopMoney": v2(price_set["shop_money"]), "presentmentMoney": v2(price_set["presentment_money"])}


def _updated(w):
    return (w.created_at, w.updated_at)


def location_obj(ctx, w) -> dict:
    rest = shopify.location_json(w, ctx["zone"])
    levels = [lv for lv in ctx["world"].inventory_levels(ctx["now"]) if lv.location_id == w.location_id]
    return {
        "id": gid("Location", w.location_id), "legacyResourceId": w.location_id, "name": w.name,
        "isActive": True, "createdAt": rest["created_at"], "updatedAt": rest["updated_at"],
        "address": {"address1": w.address1, "city": w.city, "zip": w.zip, "provinceCode": w.province_code,
                    "countryCode": w.country},
        "inventoryLevels": lambda info, first=None, after=None, query=None: connection(
            info, [(lv, (lambda lv=lv: level_obj(ctx, lv, w))) for lv in levels],
            lambda lv: sort_key(lv.updated_at, f"{lv.location_id:012d}-{lv.inventory_item_id:015d}"),
            first, after, query, lambda lv: (lv.updated_at, lv.updated_at)),
    }


def level_obj(ctx, lv, w) -> dict:
    at = shopify.inventory_level_json(lv, ctx["zone"])["updated_at"]
    q = quantities(lv.inventory_item_id, lv.location_id, lv.available)

    def pick(info, names):
        unknown = [n for n in names if n not in QUANTITY_NAMES]
        if unknown:
            raise GraphQLError(f"The quantity name {unknown[0]!r} is not valid.")
        return [{"id": gid("InventoryQuantity", f"{lv.location_id}-{lv.inventory_item_id}-{n}"),
                 "name": n, "quantity": q[n], "updatedAt": at} for n in names]
    return {
        "id": gid("InventoryLevel", f"{lv.location_id}?inventory_item_id={lv.inventory_item_id}"),
        "createdAt": at, "updatedAt": at, "quantities": pick,
        "item": lambda info: item_obj(ctx, ctx["sku_by_item"][lv.inventory_item_id]),
        "location": lambda info: location_obj(ctx, w),
    }


def item_obj(ctx, s) -> dict:
    rest = shopify.inventory_item_json(s, ctx["zone"], None)
    return {"id": gid("InventoryItem", s.inventory_item_id), "legacyResourceId": s.inventory_item_id,
            "sku": s.sku, "tracked": True, "createdAt": rest["created_at"], "updatedAt": rest["updated_at"],
            "variant": lambda info: variant_obj(ctx, s)}


def variant_obj(ctx, s) -> dict:
    rest = shopify.variant_json(s, ctx["zone"], 0)
    return {
        "id": gid("ProductVariant", s.variant_id), "legacyResourceId": s.variant_id, "sku": s.sku,
        "title": rest["title"], "price": rest["price"], "createdAt": rest["created_at"],
        "updatedAt": rest["updated_at"], "inventoryItem": lambda info: item_obj(ctx, s),
        "product": product_obj(ctx, s, rest["updated_at"]),
    }


def product_obj(ctx, s, updated_at: str) -> dict:
    def metafield(info, key, namespace=None):
        m = ctx["world"].metafield(ctx["merchant"].shop, s.sku, namespace or "app", key)
        return metafield_json(m) if m is not None else None
    return {"id": gid("Product", s.product_id), "legacyResourceId": s.product_id, "title": s.name,
            "productType": s.sku_class, "updatedAt": updated_at, "metafield": metafield}


def metafield_json(m) -> dict:
    """A product metafield the shop holds (sandbox/world_storefront.py) as Shopify's Metafield."""
    digest = hashlib.sha256(f"{m.ident}:{m.value}:{m.updated_at.isoformat()}".encode()).hexdigest()
    return {"id": gid("Metafield", m.ident), "namespace": m.namespace, "key": m.key, "type": m.type,
            "value": m.value, "compareDigest": digest, "ownerType": "PRODUCT",
            "createdAt": iso_z(m.created_at), "updatedAt": iso_z(m.updated_at)}


def order_obj(ctx, o) -> dict:
    rest = shopify.order_json(o, ctx["zone"], ctx["refunded"].get(o.order_id, 0.0))
    lines = [(line, (lambda line=line: {
        "id": gid("LineItem", line["id"]), "sku": line["sku"], "name": line["name"],
        "quantity": line["quantity"], "originalUnitPriceSet": _money_bag(line["price_set"]),
        "variant": None})) for line in rest["line_items"]]
    ships = [(s, (lambda s=s: {"id": gid("ShippingLine", s["id"]), "title": s["title"], "code": s["code"],
                               "originalPriceSet": _money_bag(s["price_set"])})) for s in rest["shipping_lines"]]
    fulfillment_orders = [(o, lambda: {
        "id": gid("FulfillmentOrder", o.order_id * 10 + 2),
        "status": "CLOSED" if o.fulfillment_status == "fulfilled" else "OPEN",
        "assignedLocation": {"name": _warehouse_name(ctx, o.location_id),
                             "location": {"id": gid("Location", o.location_id)}}})]

    def fulfillments(info, first=None):
        rows = rest["fulfillments"][: first] if first else rest["fulfillments"]
        return [{"id": f["admin_graphql_api_id"], "name": f["name"], "status": f["status"].upper(),
                 "createdAt": f["created_at"], "updatedAt": f["updated_at"],
                 "location": {"id": gid("Location", f["location_id"])},
                 "trackingInfo": lambda info, first=None, f=f: [
                     {"company": f["tracking_company"], "number": f["tracking_number"], "url": f["tracking_url"]}]}
                for f in rows]

    def by_position(x):
        return sort_key(_EPOCH, x["id"] if isinstance(x, dict) else x.order_id)
    return {
        "id": gid("Order", o.order_id), "legacyResourceId": o.order_id, "name": o.name, "email": o.email,
        "customer": {"id": gid("Customer", customer_id(o.email)), "email": o.email,
                     "displayName": o.email.split("@")[0]},
        "createdAt": rest["created_at"], "updatedAt": rest["updated_at"], "processedAt": rest["processed_at"],
        "cancelledAt": rest["cancelled_at"], "closedAt": rest["closed_at"], "closed": rest["closed_at"] is not None,
        "currencyCode": o.currency, "sourceName": o.channel,
        "displayFinancialStatus": o.financial_status.upper(),
        "displayFulfillmentStatus": (o.fulfillment_status or "unfulfilled").upper(),
        "subtotalPriceSet": _money_bag(rest["subtotal_price_set"]),
        "totalPriceSet": _money_bag(rest["total_price_set"]),
        "currentTotalPriceSet": _money_bag(rest["current_total_price_set"]),
        "totalShippingPriceSet": _money_bag(rest["total_shipping_price_set"]),
        "shippingAddress": {"city": o.city, "country": rest["shipping_address"]["country"],
                            "countryCodeV2": o.market},
        "customAttributes": [{"key": a["name"], "value": a["value"]} for a in rest["note_attributes"]],
        "lineItems": lambda info, first=None, after=None: connection(info, lines, by_position, first, after),
        "shippingLines": lambda info, first=None, after=None: connection(info, ships, by_position, first, after),
        "fulfillments": fulfillments,
        "fulfillmentOrders": lambda info, first=None, after=None: connection(
            info, fulfillment_orders, by_position, first, after),
    }


def _warehouse_name(ctx, location_id: int) -> str:
    return next((w.name for w in ctx["world"].warehouses if w.location_id == location_id), "")


# --- the query root ------------------------------------------------------------------------------


def context(world, merchant: Merchant, now: datetime, bulk: bool = False) -> dict:
    refunded: dict[int, float] = {}
    for r in world.returns(now):
        if r.refunded_at is not None and r.shop == merchant.shop:
            refunded[r.order_id] = refunded.get(r.order_id, 0.0) + r.return_total
    return {"world": world, "merchant": merchant, "now": now, "bulk": bulk, "zone": shopify.shop_zone(merchant),
            "sku_by_item": {s.inventory_item_id: s for s in world.skus}, "refunded": refunded}


_ORDER_KEYS = {
    "ID": lambda o: sort_key(_EPOCH, o.order_id),
    "CREATED_AT": lambda o: sort_key(o.created_at, o.order_id),
    "PROCESSED_AT": lambda o: sort_key(o.created_at, o.order_id),
    "UPDATED_AT": lambda o: sort_key(o.updated_at, o.order_id),
}
_VARIANT_KEYS = {
    "ID": lambda s: sort_key(_EPOCH, s.variant_id),
    "SKU": lambda s: sort_key(_EPOCH, s.sku),
    "UPDATED_AT": lambda s: sort_key(s.updated_at, s.variant_id),
}


def _no_reverse(reverse: bool) -> None:
    if reverse:
        raise GraphQLError("reverse: true is not served by the sandbox", extensions={"code": "BAD_USER_INPUT"})


def root(ctx) -> dict:
    world, now, m = ctx["world"], ctx["now"], ctx["merchant"]
    warehouses = sorted((w for w in world.warehouses if w.created_at <= now), key=lambda w: w.location_id)

    def locations(info, first=None, after=None, query=None, includeInactive=False):
        return connection(info, [(w, (lambda w=w: location_obj(ctx, w))) for w in warehouses],
                          lambda w: sort_key(_EPOCH, w.location_id), first, after, query, _updated)

    def location(info, id=None):
        return next((location_obj(ctx, w) for w in warehouses if gid("Location", w.location_id) == id), None)

    def variants(info, first=None, after=None, query=None, sortKey="ID", reverse=False):
        _no_reverse(reverse)
        skus = [s for s in world.skus if s.created_at <= now]
        return connection(info, [(s, (lambda s=s: variant_obj(ctx, s))) for s in skus], _VARIANT_KEYS[sortKey],
                          first, after, query, lambda s: (s.created_at, s.updated_at))

    def orders(info, first=None, after=None, query=None, sortKey="PROCESSED_AT", reverse=False):
        _no_reverse(reverse)
        rows = world.orders(now, m.shop)
        return connection(info, [(o, (lambda o=o: order_obj(ctx, o))) for o in rows], _ORDER_KEYS[sortKey],
                          first, after, query, lambda o: (o.created_at, o.updated_at))

    def order(info, id):
        wanted = gid_number(id, "Order")
        found = [o for o in world.orders(now, m.shop) if o.order_id == wanted]
        return order_obj(ctx, found[0]) if found else None

    def orders_count(info, query=None, limit=10000):
        terms = search_filter(query)
        n = sum(1 for o in world.orders(now, m.shop) if _matches(terms, o.created_at, o.updated_at))
        return {"count": min(n, limit), "precision": "AT_LEAST" if n > limit else "EXACT"}

    return {
        "shop": {"id": gid("Shop", m.shop_id), "name": m.name, "myshopifyDomain": f"{m.shop}.myshopify.com",
                 "currencyCode": m.currency, "ianaTimezone": ctx["zone"]},
        "locations": locations, "location": location, "productVariants": variants, "orders": orders,
        "order": order, "ordersCount": orders_count,
    }


# --- cost -----------------------------------------------------------------------------------------


def query_cost(document, variables: dict | None, operation_name: str | None = None) -> int:
    """Requested cost of the operation (see the module docstring)."""
    op = graphql.get_operation_ast(document, operation_name)
    if op is None:
        return 0
    if op.operation == graphql.OperationType.MUTATION:
        return 10
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, graphql.FragmentDefinitionNode)}
    return _cost(op.selection_set, SCHEMA.query_type, variables or {}, fragments)


def _cost(selection_set, parent, variables, fragments) -> int:
    total = 0
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, graphql.InlineFragmentNode):
            cond = SCHEMA.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            total += _cost(sel.selection_set, cond, variables, fragments)
            continue
        if isinstance(sel, graphql.FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag:
                total += _cost(frag.selection_set, SCHEMA.get_type(frag.type_condition.name.value),
                               variables, fragments)
            continue
        field = getattr(parent, "fields", {}).get(sel.name.value)
        if field is None:
            continue
        named = graphql.get_named_type(field.type)
        if not graphql.is_object_type(named):
            continue
        args = {a.name.value: graphql.value_from_ast_untyped(a.value, variables) for a in sel.arguments or ()}
        first = args.get("first")
        inner = _cost(sel.selection_set, named, variables, fragments)
        if named.name.endswith("Connection"):
            total += 2 + int(first or 1) * inner
        elif isinstance(first, int):
            total += first * (1 + inner)
        else:
            total += 1 + inner
    return total


def actual_cost(data, requested: int) -> int:
    """What the answer really cost: 1 per object served (connections 2), at most `requested`."""
    def walk(node) -> int:
        if isinstance(node, list):
            return sum(walk(x) for x in node)
        if isinstance(node, dict):
            own = 2 if "pageInfo" in node else 1
            return own + sum(walk(v) for k, v in node.items() if k != "pageInfo")
        return 0
    return min(requested, max(1, walk(data) - 1)) if data else 1
