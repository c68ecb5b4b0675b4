"""Contract tests: the vendors' official SDKs, pointed at the sandbox, parse what it serves.

- aftership-tracking-sdk 10.0.1 (`tracking` package): pydantic models validate every page.
- ShopifyAPI 12.7 (`shopify` package): resources load and its Link-header pagination helpers walk.
- A field-by-field check of the Shopify REST shapes against the documented schema.
Each runs against the hand-made fixture world and, once `sandbox/world.py` exists, the real one."""

from __future__ import annotations

import importlib.util
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
import shopify
from tracking import Client, Configuration
from tracking.exceptions import TooManyRequestsError
from tracking.models import Tag

from sandbox.server import SandboxServer
from sandbox_fixture_world import FixtureWorld
from tower.clock import ManualClock
from tower.config import SandboxConfig

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
# The SDK's pinned httpx usage warns about its own internals; not the sandbox's concern.
pytestmark = pytest.mark.filterwarnings("ignore:URL.raw is deprecated:UserWarning")
HAVE_REAL_WORLD = importlib.util.find_spec("sandbox.world") is not None


def real_world(clock):
    from sandbox.world import World, scenario_windows

    return World(seed=7, clock=clock, history_days=2, scenarios=scenario_windows(["member_day"], clock.now()))


@pytest.fixture(
    params=[
        "fixture",
        pytest.param(
            "real", marks=pytest.mark.skipif(not HAVE_REAL_WORLD, reason="sandbox/world.py not written yet")
        ),
    ],
    scope="module",
)
def server(request):
    clock = ManualClock(T0)
    world = FixtureWorld(T0) if request.param == "fixture" else real_world(clock)
    srv = SandboxServer(SandboxConfig(port=0, seed=7), clock, world)
    yield srv
    srv.stop()


@pytest.fixture
def shop_session(server):
    shop = server.world.merchants[0].shop
    shopify.ShopifyResource.site = f"{server.url}/shopify/{shop}/admin/api/2025-07"
    shopify.ShopifyResource.headers["X-Shopify-Access-Token"] = "sandbox"
    yield shop
    shopify.ShopifyResource.clear_session()


def four_pages(records, max_limit: int) -> int:
    """A page size that makes a walk take about four pages: pagination is exercised, quickly."""
    return max(1, min(max_limit, -(-len(records) // 4)))


def aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{value!r} has no UTC offset"
    return parsed


# ── AfterShip Tracking SDK ────────────────────────────────────────────────────────────────────
def sdk_pages(client, **params):
    """All pages through the SDK's cursor, waiting out 429s the way AfterShip asks."""
    cursor = None
    while True:
        try:
            resp = client.tracking.get_trackings(**params, **({"cursor": cursor} if cursor else {}))
        except TooManyRequestsError as exc:
            reset = int(exc.response_header.get("x-ratelimit-reset", [str(int(time.time()) + 1)])[0])
            time.sleep(max(0.05, reset - time.time()))
            continue
        yield resp.data
        if not resp.data.pagination.has_next_page:
            return
        cursor = resp.data.pagination.next_cursor


def test_aftership_sdk_lists_every_tracking_typed(server):
    client = Client(Configuration(domain=server.url, api_key="sandbox", max_retry=0))
    expected = server.world.trackings(server.clock.now())
    pages = [data for data in sdk_pages(client, limit=four_pages(expected, 200))]
    assert len(pages) >= 4
    trackings = [t for data in pages for t in data.trackings]
    assert expected, "the world should have trackings"
    assert sorted(t.id for t in trackings) == sorted(t.id for t in expected)
    for t in trackings:
        assert isinstance(t.tag, Tag)
        assert t.slug and t.tracking_number and t.subtag.startswith(t.tag.value)
        assert aware(t.updated_at) <= server.clock.now() and aware(t.created_at) <= aware(t.updated_at)
        assert len(t.origin_country_region) == 3 and len(t.destination_country_region) == 3
        assert t.custom_fields["direction"] in ("inbound", "outbound")
        assert t.custom_fields["mode"] in ("sea", "air", "express", "truck")
        assert all(isinstance(v, str) for v in t.custom_fields.values())
        if t.custom_fields["direction"] == "outbound":
            assert t.order_id
        for cp in t.checkpoints:
            assert isinstance(cp.tag, Tag) and cp.checkpoint_time and cp.message
            assert aware(cp.created_at) <= server.clock.now()
            datetime.fromisoformat(cp.checkpoint_time)  # local time, offset optional
            if cp.coordinate is not None:
                assert -90 <= cp.coordinate.latitude <= 90 and -180 <= cp.coordinate.longitude <= 180
    assert any(t.checkpoints for t in trackings)


def test_aftership_sdk_filters_and_single_tracking(server):
    client = Client(Configuration(domain=server.url, api_key="sandbox", max_retry=0))
    since = server.clock.now() - timedelta(hours=12)
    recent = [t for d in sdk_pages(client, limit=200, updated_at_min=since.isoformat()) for t in d.trackings]
    assert all(aware(t.updated_at) >= since for t in recent)
    assert len(recent) == sum(1 for t in server.world.trackings(server.clock.now()) if t.updated_at >= since)
    first = server.world.trackings(server.clock.now())[0]
    for _ in range(10):
        try:
            one = client.tracking.get_tracking_by_id(first.id)
            break
        except TooManyRequestsError:
            time.sleep(1)
    assert one.data.tracking_number == first.tracking_number and one.data.slug == first.slug


# ── ShopifyAPI ────────────────────────────────────────────────────────────────────────────────
def all_pages(collection):
    """Every record, following the SDK's own Link-header pagination."""
    for page in shopify.PaginatedIterator(collection):
        yield from page


def test_shopify_sdk_reads_locations_products_levels_and_orders(server, shop_session):
    world, now = server.world, server.clock.now()
    locations = shopify.Location.find()
    assert {loc.id for loc in locations} == {w.location_id for w in world.warehouses}

    products = list(all_pages(shopify.Product.find(limit=3)))
    assert {p.id for p in products} == {s.product_id for s in world.skus}
    variant = products[0].variants[0]
    assert variant.sku and variant.inventory_item_id and float(variant.price) > 0

    items = shopify.InventoryItem.find(ids=",".join(str(s.inventory_item_id) for s in world.skus[:5]))
    assert {i.sku for i in items} == {s.sku for s in world.skus[:5]}

    ids = ",".join(str(loc.id) for loc in locations)
    limit = four_pages(world.inventory_levels(now), 250)
    levels = list(all_pages(shopify.InventoryLevel.find(location_ids=ids, limit=limit)))
    assert len(levels) == len(world.inventory_levels(now))
    assert all(isinstance(lv.available, int) for lv in levels)

    # The SDK builds objects slowly (~30 ms an order), so read the newest ~60 orders incrementally.
    everything = sorted(world.orders(now, shop_session), key=lambda o: o.updated_at)
    since = everything[-60:][0].updated_at
    expected = [o for o in everything if o.updated_at >= since]
    orders = list(
        all_pages(
            shopify.Order.find(
                status="any", updated_at_min=since.isoformat(), limit=four_pages(expected, 250)
            )
        )
    )
    assert sorted(o.id for o in orders) == sorted(o.order_id for o in expected)
    sample = orders[0]
    assert sample.line_items[0].sku and sample.shipping_address.country_code
    notes = {n.name: n.value for n in sample.note_attributes}
    assert aware(notes["promised_delivery_at"]) > aware(sample.created_at)
    float(notes["shipping_cost"])


# ── Shopify REST shapes, field by field ───────────────────────────────────────────────────────
STR, INT, NUM, BOOL, LIST, DICT = str, int, (int, float), bool, list, dict
OPT = type(None)
MONEY = "money"  # decimal string with two places
TIME = "time"  # ISO-8601 with a UTC offset

SCHEMAS = {
    "location": {
        "id": INT,
        "name": STR,
        "address1": (STR, OPT),
        "address2": (STR, OPT),
        "city": (STR, OPT),
        "zip": (STR, OPT),
        "province": (STR, OPT),
        "country": STR,
        "country_code": STR,
        "country_name": STR,
        "province_code": (STR, OPT),
        "phone": (STR, OPT),
        "legacy": BOOL,
        "active": BOOL,
        "created_at": TIME,
        "updated_at": TIME,
        "admin_graphql_api_id": STR,
    },
    "product": {
        "id": INT,
        "title": STR,
        "body_html": (STR, OPT),
        "vendor": STR,
        "product_type": STR,
        "handle": STR,
        "created_at": TIME,
        "updated_at": TIME,
        "published_at": (TIME, OPT),
        "status": STR,
        "tags": STR,
        "variants": LIST,
        "options": LIST,
        "images": LIST,
        "admin_graphql_api_id": STR,
    },
    "variant": {
        "id": INT,
        "product_id": INT,
        "title": STR,
        "price": MONEY,
        "sku": STR,
        "position": INT,
        "inventory_policy": STR,
        "compare_at_price": (MONEY, OPT),
        "inventory_item_id": INT,
        "inventory_quantity": INT,
        "inventory_management": (STR, OPT),
        "requires_shipping": BOOL,
        "taxable": BOOL,
        "barcode": (STR, OPT),
        "created_at": TIME,
        "updated_at": TIME,
        "admin_graphql_api_id": STR,
    },
    "inventory_item": {
        "id": INT,
        "sku": STR,
        "cost": (MONEY, OPT),
        "tracked": BOOL,
        "requires_shipping": BOOL,
        "country_code_of_origin": (STR, OPT),
        "harmonized_system_code": (STR, OPT),
        "created_at": TIME,
        "updated_at": TIME,
        "admin_graphql_api_id": STR,
    },
    "inventory_level": {
        "inventory_item_id": INT,
        "location_id": INT,
        "available": (INT, OPT),
        "updated_at": TIME,
        "admin_graphql_api_id": STR,
    },
    "order": {
        "id": INT,
        "name": STR,
        "order_number": INT,
        "number": INT,
        "email": (STR, OPT),
        "created_at": TIME,
        "updated_at": TIME,
        "processed_at": TIME,
        "cancelled_at": (TIME, OPT),
        "cancel_reason": (STR, OPT),
        "closed_at": (TIME, OPT),
        "currency": STR,
        "financial_status": STR,
        "fulfillment_status": (STR, OPT),
        "source_name": STR,
        "subtotal_price": MONEY,
        "total_price": MONEY,
        "current_total_price": MONEY,
        "total_tax": MONEY,
        "total_discounts": MONEY,
        "total_price_set": DICT,
        "total_shipping_price_set": DICT,
        "note_attributes": LIST,
        "line_items": LIST,
        "shipping_lines": LIST,
        "fulfillments": LIST,
        "refunds": LIST,
        "shipping_address": (DICT, OPT),
        "tags": STR,
        "test": BOOL,
        "admin_graphql_api_id": STR,
    },
    "line_item": {
        "id": INT,
        "variant_id": (INT, OPT),
        "product_id": (INT, OPT),
        "title": STR,
        "quantity": INT,
        "sku": (STR, OPT),
        "price": MONEY,
        "price_set": DICT,
        "fulfillable_quantity": INT,
        "fulfillment_status": (STR, OPT),
        "requires_shipping": BOOL,
        "taxable": BOOL,
        "gift_card": BOOL,
        "total_discount": MONEY,
        "tax_lines": LIST,
        "properties": LIST,
    },
    "shipping_line": {
        "id": INT,
        "title": STR,
        "price": MONEY,
        "code": (STR, OPT),
        "source": (STR, OPT),
        "price_set": DICT,
        "discounted_price": MONEY,
    },
    "fulfillment": {
        "id": INT,
        "order_id": INT,
        "status": STR,
        "created_at": TIME,
        "updated_at": TIME,
        "location_id": (INT, OPT),
        "tracking_company": (STR, OPT),
        "tracking_number": (STR, OPT),
        "tracking_numbers": LIST,
        "tracking_url": (STR, OPT),
        "tracking_urls": LIST,
        "shipment_status": (STR, OPT),
        "name": STR,
        "service": (STR, OPT),
        "line_items": LIST,
    },
    "address": {
        "first_name": (STR, OPT),
        "last_name": (STR, OPT),
        "address1": (STR, OPT),
        "city": (STR, OPT),
        "zip": (STR, OPT),
        "province_code": (STR, OPT),
        "country": (STR, OPT),
        "country_code": (STR, OPT),
        "latitude": (NUM, OPT),
        "longitude": (NUM, OPT),
    },
}
SHIPMENT_STATUSES = {
    None,
    "label_printed",
    "label_purchased",
    "attempted_delivery",
    "ready_for_pickup",
    "confirmed",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "failure",
}
FINANCIAL = {"pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"}


def conforms(record: dict, schema: str) -> list[str]:
    problems = []
    for key, kind in SCHEMAS[schema].items():
        if key not in record:
            problems.append(f"{schema}.{key} missing")
            continue
        kinds = kind if isinstance(kind, tuple) else (kind,)  # alternatives, e.g. (STR, OPT)
        value = record[key]
        ok = False
        for k in kinds:
            if k == MONEY:
                ok = ok or (isinstance(value, str) and len(value.split(".")[-1]) == 2 and float(value) >= 0)
            elif k == TIME:
                ok = ok or (isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None)
            elif isinstance(k, tuple):
                ok = ok or isinstance(value, k)
            else:
                ok = ok or (isinstance(value, k) and not (k is INT and isinstance(value, bool)))
        if not ok:
            problems.append(f"{schema}.{key} = {value!r} is not {kind}")
    return problems


def test_shopify_rest_shapes_match_the_documented_schema(server):
    shop = server.world.merchants[0].shop
    base = f"{server.url}/shopify/{shop}/admin/api/2025-07"
    headers = {"X-Shopify-Access-Token": "sandbox"}
    get = lambda path: requests.get(base + path, headers=headers, timeout=10).json()  # noqa: E731
    problems = []
    locations = get("/locations.json")["locations"]
    problems += [p for loc in locations for p in conforms(loc, "location")]
    products = get("/products.json?limit=250")["products"]
    problems += [p for prod in products for p in conforms(prod, "product")]
    problems += [p for prod in products for v in prod["variants"] for p in conforms(v, "variant")]
    ids = ",".join(str(v["inventory_item_id"]) for prod in products for v in prod["variants"])[:2000]
    problems += [
        p
        for item in get(f"/inventory_items.json?ids={ids}")["inventory_items"]
        for p in conforms(item, "inventory_item")
    ]
    loc_ids = ",".join(str(loc["id"]) for loc in locations)
    problems += [
        p
        for lv in get(f"/inventory_levels.json?location_ids={loc_ids}&limit=250")["inventory_levels"]
        for p in conforms(lv, "inventory_level")
    ]
    orders = get("/orders.json?status=any&limit=250")["orders"]
    assert orders
    for o in orders:
        problems += conforms(o, "order")
        problems += [p for li in o["line_items"] for p in conforms(li, "line_item")]
        problems += [p for sl in o["shipping_lines"] for p in conforms(sl, "shipping_line")]
        problems += [p for f in o["fulfillments"] for p in conforms(f, "fulfillment")]
        problems += conforms(o["shipping_address"], "address")
        assert o["financial_status"] in FINANCIAL
        assert o["fulfillment_status"] in (None, "fulfilled", "partial", "restocked")
        assert all(f["shipment_status"] in SHIPMENT_STATUSES for f in o["fulfillments"])
        assert {n["name"] for n in o["note_attributes"]} >= {"promised_delivery_at", "shipping_cost"}
        assert all(isinstance(n["value"], str) for n in o["note_attributes"])
        assert o["name"] == f"#{o['order_number']}"
        assert o["total_price_set"]["shop_money"]["amount"] == o["total_price"]
    assert not problems, "\n".join(problems[:20])
