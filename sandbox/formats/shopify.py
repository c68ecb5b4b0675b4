"""Shopify Admin REST 2025-07: `/shopify/{shop}/admin/api/2025-07/{resource}.json`.

Shapes follow Shopify's REST reference (Location, Product/ProductVariant, InventoryItem,
InventoryLevel, Order with line_items / shipping_lines / fulfillments / note_attributes): ids are
integers, money is a decimal string, times carry the shop's UTC offset. List endpoints page with an
opaque `page_info` in a `Link: <…>; rel="next"` header; when `page_info` is present only `limit` and
`fields` may accompany it, as on real Shopify."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sandbox.formats import countries
from sandbox.formats.base import (
    BadRequest,
    Query,
    Reply,
    decode_token,
    iso_in_zone,
    iso_utc,
    keyset_page,
    memo_by_record,
    money,
    parsed_times,
    sort_key,
    within,
)
from sandbox.model import Merchant, Order, Sku, Warehouse

API_VERSION = "2025-07"
MAX_LIMIT = 250
BUCKET_SIZE = 40
LEAK_PER_S = 2.0
_ZONES = {
    "USD": "America/New_York",
    "CAD": "America/Toronto",
    "EUR": "Europe/Berlin",
    "SEK": "Europe/Stockholm",
    "GBP": "Europe/London",
    "MXN": "America/Mexico_City",
    "AUD": "Australia/Sydney",
    "JPY": "Asia/Tokyo",
}
_TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}
_PAGE_INFO_COMPANIONS = {"page_info", "limit", "fields"}


def shop_zone(m: Merchant) -> str:
    return _ZONES.get(m.currency, "UTC")


# --- errors -------------------------------------------------------------------------------------


def unauthorized() -> Reply:
    return Reply(
        401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    )


def not_found() -> Reply:
    return Reply(404, {"errors": "Not Found"})


def rate_limited(retry_after: float) -> Reply:
    return Reply(
        429,
        {
            "errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
            "resume uninterrupted service."
        },
        headers={"Retry-After": f"{retry_after:.1f}"},
    )


def bad_request(exc: BadRequest) -> Reply:
    return Reply(400, {"errors": {exc.param: [exc.message]}})


def server_error() -> Reply:
    return Reply(500, {"errors": "Internal Server Error"})


# --- shapes -------------------------------------------------------------------------------------


def _gid(kind: str, ident) -> str:
    return f"gid://shopify/{kind}/{ident}"


def location_json(w: Warehouse, zone: str) -> dict:
    return {
        "id": w.location_id,
        "name": w.name,
        "address1": w.address1,
        "address2": None,
        "city": w.city,
        "zip": w.zip,
        "province": w.province_code,
        "country": w.country,
        "phone": None,
        "created_at": iso_in_zone(w.created_at, zone),
        "updated_at": iso_in_zone(w.updated_at, zone),
        "country_code": w.country,
        "country_name": countries.name(w.country),
        "province_code": w.province_code,
        "legacy": False,
        "active": True,
        "admin_graphql_api_id": _gid("Location", w.location_id),
        "localized_country_name": countries.name(w.country),
        "localized_province_name": w.province_code,
    }


def variant_json(s: Sku, zone: str, inventory_quantity: int) -> dict:
    return {
        "id": s.variant_id,
        "product_id": s.product_id,
        "title": "Default Title",
        "price": money(s.unit_price),
        "position": 1,
        "inventory_policy": "deny",
        "compare_at_price": None,
        "option1": "Default Title",
        "option2": None,
        "option3": None,
        "created_at": iso_in_zone(s.created_at, zone),
        "updated_at": iso_in_zone(s.updated_at, zone),
        "taxable": True,
        "barcode": None,
        "fulfillment_service": "manual",
        "grams": 0,
        "inventory_management": "shopify",
        "requires_shipping": True,
        "sku": s.sku,
        "weight": 0.0,
        "weight_unit": "kg",
        "inventory_item_id": s.inventory_item_id,
        "inventory_quantity": inventory_quantity,
        "old_inventory_quantity": inventory_quantity,
        "admin_graphql_api_id": _gid("ProductVariant", s.variant_id),
        "image_id": None,
    }


def product_json(s: Sku, m: Merchant, zone: str, inventory_quantity: int) -> dict:
    return {
        "id": s.product_id,
        "title": s.name,
        "body_html": f"<p>{s.name}</p>",
        "vendor": m.name,
        "product_type": s.sku_class,
        "created_at": iso_in_zone(s.created_at, zone),
        "handle": s.sku.lower(),
        "updated_at": iso_in_zone(s.updated_at, zone),
        "published_at": iso_in_zone(s.created_at, zone),
        "template_suffix": None,
        "published_scope": "global",
        "tags": s.sku_class,
        "status": "active",
        "admin_graphql_api_id": _gid("Product", s.product_id),
        "variants": [variant_json(s, zone, inventory_quantity)],
        "options": [
            {
                "id": s.product_id * 10 + 1,
                "product_id": s.product_id,
                "name": "Title",
                "position": 1,
                "values": ["Default Title"],
            }
        ],
        "images": [],
        "image": None,
    }


def inventory_item_json(s: Sku, zone: str, origin_country: str | None) -> dict:
    return {
        "id": s.inventory_item_id,
        "sku": s.sku,
        "created_at": iso_in_zone(s.created_at, zone),
        "updated_at": iso_in_zone(s.updated_at, zone),
        "requires_shipping": True,
        "cost": money(s.unit_cost),
        "country_code_of_origin": origin_country,
        "province_code_of_origin": None,
        "harmonized_system_code": None,
        "tracked": True,
        "country_harmonized_system_codes": [],
        "admin_graphql_api_id": _gid("InventoryItem", s.inventory_item_id),
    }


def inventory_level_json(level, zone: str) -> dict:
    return {
        "inventory_item_id": level.inventory_item_id,
        "location_id": level.location_id,
        "available": level.available,
        "updated_at": iso_in_zone(level.updated_at, zone),
        "admin_graphql_api_id": _gid(
            "InventoryLevel", f"{level.location_id}?inventory_item_id={level.inventory_item_id}"
        ),
    }


def _price_set(amount: float, currency: str) -> dict:
    return {
        "shop_money": {"amount": money(amount), "currency_code": currency},
        "presentment_money": {"amount": money(amount), "currency_code": currency},
    }


def _line_json(line, currency: str, fulfilled: bool) -> dict:
    return {
        "id": line.line_id,
        "admin_graphql_api_id": _gid("LineItem", line.line_id),
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "title": line.title,
        "name": line.title,
        "variant_title": None,
        "vendor": None,
        "quantity": line.quantity,
        "current_quantity": line.quantity,
        "sku": line.sku,
        "price": money(line.price),
        "price_set": _price_set(line.price, currency),
        "fulfillable_quantity": 0 if fulfilled else line.quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "grams": 0,
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "product_exists": True,
        "total_discount": "0.00",
        "total_discount_set": _price_set(0, currency),
        "tax_lines": [],
        "properties": [],
        "discount_allocations": [],
        "duties": [],
    }


def closed_at(o: Order) -> datetime | None:
    """Shopify archives (closes) an order once it is fully fulfilled (the default store setting) and
    closes cancelled orders."""
    if o.cancelled_at is not None:
        return o.cancelled_at
    if o.fulfillment_status == "fulfilled" and o.fulfillments:
        return max(f.created_at for f in o.fulfillments)
    return None


@memo_by_record  # per record version: connectors re-read the same pages often
def order_json(o: Order, zone: str, refunded: float) -> dict:
    cur = o.currency
    t = lambda dt: iso_in_zone(dt, zone)  # noqa: E731 - a local shorthand keeps the dict readable
    fulfilled = o.fulfillment_status == "fulfilled"
    if o.cancelled_at is not None or o.financial_status == "refunded":
        current_total = 0.0
    else:
        current_total = max(0.0, o.total_price - refunded)
    first, _, last = o.email.split("@")[0].replace(".", " ").title().partition(" ")
    address = {
        "first_name": first,
        "last_name": last or None,
        "name": f"{first} {last}".strip(),
        "address1": "1 Main Street",
        "address2": None,
        "city": o.city,
        "zip": None,
        "province": None,
        "province_code": None,
        "country": countries.name(o.market),
        "country_code": o.market,
        "company": None,
        "phone": None,
        "latitude": None,
        "longitude": None,
    }
    return {
        "id": o.order_id,
        "admin_graphql_api_id": _gid("Order", o.order_id),
        "name": o.name,
        "order_number": o.order_number,
        "number": o.order_number - 1000,
        "email": o.email,
        "contact_email": o.email,
        "created_at": t(o.created_at),
        "updated_at": t(o.updated_at),
        "processed_at": t(o.created_at),
        "cancelled_at": t(o.cancelled_at),
        "cancel_reason": "customer" if o.cancelled_at else None,
        "closed_at": t(closed_at(o)),
        "currency": cur,
        "presentment_currency": cur,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "source_name": o.channel,
        "test": False,
        "confirmed": True,
        "tags": "",
        "note": None,
        "taxes_included": False,
        "note_attributes": [
            {"name": "promised_delivery_at", "value": iso_utc(o.promised_delivery_at)},
            {"name": "shipping_cost", "value": money(o.shipping_cost)},
        ],
        "location_id": o.location_id,
        "subtotal_price": money(o.subtotal_price),
        "subtotal_price_set": _price_set(o.subtotal_price, cur),
        "total_line_items_price": money(sum(line.price * line.quantity for line in o.lines)),
        "total_price": money(o.total_price),
        "total_price_set": _price_set(o.total_price, cur),
        "current_total_price": money(current_total),
        "current_total_price_set": _price_set(current_total, cur),
        "current_subtotal_price": money(max(0.0, current_total - o.shipping_price) if current_total else 0.0),
        "total_tax": "0.00",
        "current_total_tax": "0.00",
        "total_discounts": "0.00",
        "current_total_discounts": "0.00",
        "total_shipping_price_set": _price_set(o.shipping_price, cur),
        "shipping_address": address,
        "billing_address": address,
        "line_items": [_line_json(line, cur, fulfilled) for line in o.lines],
        "shipping_lines": [
            {
                "id": o.order_id * 10 + 1,
                "title": "Standard",
                "code": "Standard",
                "source": "shopify",
                "price": money(o.shipping_price),
                "price_set": _price_set(o.shipping_price, cur),
                "discounted_price": money(o.shipping_price),
                "discounted_price_set": _price_set(o.shipping_price, cur),
                "carrier_identifier": None,
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
        "fulfillments": [
            {
                "id": f.fulfillment_id,
                "admin_graphql_api_id": _gid("Fulfillment", f.fulfillment_id),
                "order_id": o.order_id,
                "name": f"{o.name}.{i}",
                "status": "success",
                "service": "manual",
                "created_at": t(f.created_at),
                "updated_at": t(f.updated_at),
                "location_id": f.location_id,
                "tracking_company": f.tracking_company,
                "tracking_number": f.tracking_number,
                "tracking_numbers": [f.tracking_number],
                "tracking_url": _TRACKING_URLS.get(f.tracking_company, "").format(f.tracking_number) or None,
                "tracking_urls": [
                    u for u in [_TRACKING_URLS.get(f.tracking_company, "").format(f.tracking_number)] if u
                ],
                "shipment_status": f.shipment_status,
                "line_items": [_line_json(line, cur, True) for line in o.lines],
            }
            for i, f in enumerate(o.fulfillments, start=1)
        ],
        "refunds": [],
    }


# --- paging ------------------------------------------------------------------------------------


def _only_fields(rows: list[dict], q: Query) -> list[dict]:
    wanted = q.csv_set("fields")
    return rows if not wanted else [{k: v for k, v in r.items() if k in wanted} for r in rows]


def _paged_state(q: Query, now: datetime, filters) -> dict:
    """The walk's state: from `page_info` (which forbids other filters) or from this first page."""
    page_info = q.get("page_info")
    if page_info:
        extra = q.keys() - _PAGE_INFO_COMPANIONS
        if extra:
            raise BadRequest("page_info", f"cannot be combined with {', '.join(sorted(extra))}")
        return decode_token(page_info, "page_info")
    return {"asof": now.isoformat(), "after": None, "f": filters(q, now)}


def _link(base_url: str, resource: str, q: Query, token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    params = {"limit": q.get("limit")} if q.get("limit") else {}
    if q.get("fields"):
        params["fields"] = q.get("fields")
    params["page_info"] = token
    return {"Link": f'<{base_url}/{resource}.json?{urlencode(params)}>; rel="next"'}


def _time_filters(q: Query, now: datetime) -> dict:
    f = {}
    for name in ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max"):
        value = q.time(name)
        f[name] = None if value is None else value.isoformat()
    asof = min(now, datetime.fromisoformat(f["updated_at_max"])) if f["updated_at_max"] else now
    f["updated_at_max"] = asof.isoformat()
    ids = q.csv_set("ids")
    try:
        f["ids"] = None if ids is None else sorted(int(i) for i in ids)
    except ValueError:
        raise BadRequest("ids", "must be a comma-separated list of integers") from None
    f["since_id"] = q.int("since_id", 0, lo=0)
    return f


def _time_match(f: dict, ident: int, created: datetime, updated: datetime) -> bool:
    """`f`: the walk's filters after `parsed_times`."""
    return (
        within(updated, f.get("updated_at_min"), f.get("updated_at_max"))
        and within(created, f.get("created_at_min"), f.get("created_at_max"))
        and (f.get("ids") is None or ident in f["ids"])
        and ident > (f.get("since_id") or 0)
    )


# --- endpoints ----------------------------------------------------------------------------------


def locations(world, m: Merchant, now: datetime, q: Query, base_url: str) -> Reply:
    zone = shop_zone(m)
    rows = [
        location_json(w, zone)
        for w in sorted(world.warehouses, key=lambda w: w.location_id)
        if w.created_at <= now
    ]
    return Reply(200, {"locations": _only_fields(rows, q)}, records_path=("locations",))


def products(world, m: Merchant, now: datetime, q: Query, base_url: str) -> Reply:
    limit = q.int("limit", 50, hi=MAX_LIMIT, clamp=True)
    state = _paged_state(q, now, _time_filters)
    f = parsed_times(state["f"])
    rows = [s for s in world.skus if _time_match(f, s.product_id, s.created_at, s.updated_at)]
    page = keyset_page(rows, lambda s: sort_key(s.updated_at, s.product_id), limit, state)
    zone = shop_zone(m)
    on_hand: dict[int, int] = {}
    if page.items:
        for level in world.inventory_levels(now):
            on_hand[level.inventory_item_id] = on_hand.get(level.inventory_item_id, 0) + level.available
    body = [product_json(s, m, zone, on_hand.get(s.inventory_item_id, 0)) for s in page.items]
    return Reply(
        200,
        {"products": _only_fields(body, q)},
        headers=_link(base_url, "products", q, page.next_token),
        records_path=("products",),
    )


def inventory_items(world, m: Merchant, now: datetime, q: Query, base_url: str) -> Reply:
    ids = q.csv_set("ids")
    if not ids:
        raise BadRequest("ids", "is required")
    try:
        wanted = {int(i) for i in ids}
    except ValueError:
        raise BadRequest("ids", "must be a comma-separated list of integers") from None
    if len(wanted) > 100:
        raise BadRequest("ids", "accepts at most 100 ids")
    limit = q.int("limit", 50, hi=MAX_LIMIT, clamp=True)
    origin = {}
    for po in world.purchase_orders(now):
        origin.setdefault(po.sku, po.supplier_code)
    supplier_country = {s.code: s.country for s in world.suppliers}
    zone = shop_zone(m)
    rows = [
        inventory_item_json(s, zone, supplier_country.get(origin.get(s.sku)))
        for s in sorted(world.skus, key=lambda s: s.inventory_item_id)
        if s.inventory_item_id in wanted and s.created_at <= now
    ][:limit]
    return Reply(200, {"inventory_items": _only_fields(rows, q)}, records_path=("inventory_items",))


def _level_filters(q: Query, now: datetime) -> dict:
    f = _time_filters(q, now)
    out = {"location_ids": None, "inventory_item_ids": None}
    for name in out:
        values = q.csv_set(name)
        if values:
            try:
                out[name] = sorted(int(v) for v in values)
            except ValueError:
                raise BadRequest(name, "must be a comma-separated list of integers") from None
    if out["location_ids"] is None and out["inventory_item_ids"] is None:
        raise BadRequest("base", "inventory_item_ids or location_ids must be present")
    return {**f, **out}


def inventory_levels(world, m: Merchant, now: datetime, q: Query, base_url: str) -> Reply:
    limit = q.int("limit", 50, hi=MAX_LIMIT, clamp=True)
    state = _paged_state(q, now, _level_filters)
    f = parsed_times(state["f"])

    def keep(level) -> bool:
        return (
            within(level.updated_at, f.get("updated_at_min"), f.get("updated_at_max"))
            and (f.get("location_ids") is None or level.location_id in f["location_ids"])
            and (f.get("inventory_item_ids") is None or level.inventory_item_id in f["inventory_item_ids"])
        )

    rows = [level for level in world.inventory_levels(now) if keep(level)]
    page = keyset_page(
        rows,
        lambda lv: sort_key(lv.updated_at, f"{lv.location_id:012d}-{lv.inventory_item_id:015d}"),
        limit,
        state,
    )
    zone = shop_zone(m)
    body = [inventory_level_json(level, zone) for level in page.items]
    return Reply(
        200,
        {"inventory_levels": _only_fields(body, q)},
        headers=_link(base_url, "inventory_levels", q, page.next_token),
        records_path=("inventory_levels",),
    )


ORDER_STATUSES = {"open", "closed", "cancelled", "any"}


def _order_filters(q: Query, now: datetime) -> dict:
    f = _time_filters(q, now)
    status = q.get("status", "open")
    if status not in ORDER_STATUSES:
        raise BadRequest("status", f"must be one of {sorted(ORDER_STATUSES)}")
    f["status"] = status
    f["financial_status"] = q.get("financial_status", "any")
    f["fulfillment_status"] = q.get("fulfillment_status", "any")
    return f


def _order_match(o: Order, f: dict) -> bool:
    if not _time_match(f, o.order_id, o.created_at, o.updated_at):
        return False
    closed = closed_at(o)
    status_ok = {
        "any": True,
        "open": o.cancelled_at is None and closed is None,
        "closed": closed is not None,
        "cancelled": o.cancelled_at is not None,
    }[f["status"]]
    financial_ok = f["financial_status"] in ("any", o.financial_status)
    shipped = o.fulfillment_status == "fulfilled"
    fulfillment_ok = {
        "any": True,
        "shipped": shipped,
        "unshipped": not shipped,
        "unfulfilled": not shipped,
        "partial": o.fulfillment_status == "partial",
    }.get(f["fulfillment_status"], False)
    return status_ok and financial_ok and fulfillment_ok


def orders(world, m: Merchant, now: datetime, q: Query, base_url: str) -> Reply:
    limit = q.int("limit", 50, hi=MAX_LIMIT, clamp=True)
    state = _paged_state(q, now, _order_filters)
    f = parsed_times(state["f"])
    rows = [o for o in world.orders(now, m.shop) if _order_match(o, f)]
    page = keyset_page(rows, lambda o: sort_key(o.updated_at, o.order_id), limit, state)
    refunded: dict[int, float] = {}
    if any(o.financial_status == "partially_refunded" for o in page.items):
        for r in world.returns(now):
            if r.refunded_at is not None and r.shop == m.shop:
                refunded[r.order_id] = refunded.get(r.order_id, 0.0) + r.return_total
    zone = shop_zone(m)
    body = [order_json(o, zone, refunded.get(o.order_id, 0.0)) for o in page.items]
    return Reply(
        200,
        {"orders": _only_fields(body, q)},
        headers=_link(base_url, "orders", q, page.next_token),
        records_path=("orders",),
    )


ENDPOINTS = {
    "locations": locations,
    "products": products,
    "inventory_items": inventory_items,
    "inventory_levels": inventory_levels,
    "orders": orders,
}
