"""Shopify GraphQL Admin API: the documents the connector sends and pydantic models of what comes
back (connectors/shopify_graphql.py maps them to rows). A model accepts a node from a paged query
and the same node as a bulk-operation JSONL line (where nested connections arrive as their own
lines, joined back on `__parentId` before validation)."""
from __future__ import annotations

from decimal import Decimal

from gql import gql
from pydantic import field_validator

from connectors.base import Instant, Record

QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved")
_QUANTITIES = 'quantities(names: ["available", "on_hand", "committed", "incoming", "reserved"]) { name quantity }'

# ── selections (shared by paged queries and bulk operations) ───────────────────────────────────
VARIANT_FIELDS = "id sku updatedAt price inventoryItem { id }"
LEVEL_FIELDS = f"id updatedAt item {{ id sku }} location {{ id }} {_QUANTITIES}"
ORDER_FIELDS = """id legacyResourceId name createdAt updatedAt cancelledAt currencyCode sourceName
  totalPriceSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
  shippingAddress { countryCodeV2 } customAttributes { key value }
  fulfillments(first: %(fulfillments)d) { createdAt location { id } }"""
LINE_FIELDS = "id sku quantity originalUnitPriceSet { shopMoney { amount } }"
FULFILLMENT_ORDER_FIELDS = "id assignedLocation { location { id } }"

# ── paged queries ──────────────────────────────────────────────────────────────────────────────
LOCATIONS = gql("""query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) { nodes { id legacyResourceId name } pageInfo { hasNextPage endCursor } }
}""")
VARIANTS = gql(f"""query Variants($first: Int!, $after: String, $query: String) {{
  productVariants(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
}}""")
LEVELS = gql(f"""query Levels($location: ID!, $first: Int!, $after: String, $query: String) {{
  location(id: $location) {{ id inventoryLevels(first: $first, after: $after, query: $query) {{
    nodes {{ {LEVEL_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}
}}""")


def orders_query(lines: int, fulfillment_orders: int = 2, fulfillments: int = 3):
    return gql(f"""query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {ORDER_FIELDS % {"fulfillments": fulfillments}}
      lineItems(first: {lines}) {{ nodes {{ {LINE_FIELDS} }} pageInfo {{ hasNextPage }} }}
      fulfillmentOrders(first: {fulfillment_orders}) {{ nodes {{ {FULFILLMENT_ORDER_FIELDS} }} }} }}
    pageInfo {{ hasNextPage endCursor }} }}
}}""")


ORDERS_COUNT = gql("""query OrdersCount($query: String) { ordersCount(query: $query) { count } }""")

# ── bulk operations ────────────────────────────────────────────────────────────────────────────
RUN_BULK = gql("""mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } }
}""")
BULK_STATUS = gql("""query BulkStatus($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount url }
}""")


def _filter(query: str | None) -> str:
    return f'(query: "{query}")' if query else ""


def bulk_variants(query: str | None) -> str:
    return f"{{ productVariants{_filter(query)} {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }} }}"


def bulk_levels() -> str:
    return f"{{ locations {{ edges {{ node {{ id inventoryLevels {{ edges {{ node {{ {LEVEL_FIELDS} }} }} }} }} }} }} }}"


def bulk_orders(query: str | None) -> str:
    return (f"{{ orders{_filter(query)} {{ edges {{ node {{ {ORDER_FIELDS % {'fulfillments': 20}} "
            f"lineItems {{ edges {{ node {{ {LINE_FIELDS} }} }} }} "
            f"fulfillmentOrders {{ edges {{ node {{ {FULFILLMENT_ORDER_FIELDS} }} }} }} }} }} }} }}")


# ── payload models ─────────────────────────────────────────────────────────────────────────────
def legacy_id(gid: str | None) -> int | None:
    """`gid://shopify/LineItem/123` → 123 (the REST id, which Tower's keys use); None if not one."""
    if not gid:
        return None
    tail = str(gid).rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


class Ref(Record):
    id: str


class Money(Record):
    amount: Decimal


class MoneyBag(Record):
    shopMoney: Money


class PageInfo(Record):
    hasNextPage: bool = False
    endCursor: str | None = None


class Location(Record):
    id: str
    legacyResourceId: int | None = None
    name: str | None = None


class InventoryItemRef(Record):
    id: str
    sku: str | None = None


class Quantity(Record):
    name: str
    quantity: int


class InventoryLevel(Record):
    id: str
    updatedAt: Instant
    item: InventoryItemRef
    location: Ref | None = None
    quantities: list[Quantity]

    def quantity(self, name: str) -> int | None:
        return next((q.quantity for q in self.quantities if q.name == name), None)


class Variant(Record):
    id: str
    sku: str | None = None
    updatedAt: Instant
    inventoryItem: Ref


class LineItem(Record):
    id: str
    sku: str | None = None
    quantity: int
    originalUnitPriceSet: MoneyBag | None = None


class Fulfillment(Record):
    createdAt: Instant | None = None
    location: Ref | None = None


class AssignedLocation(Record):
    location: Ref | None = None


class FulfillmentOrder(Record):
    assignedLocation: AssignedLocation | None = None


class Attribute(Record):
    key: str
    value: str | None = None


class Address(Record):
    countryCodeV2: str | None = None


class Order(Record):
    id: str
    legacyResourceId: int
    name: str | None = None
    createdAt: Instant
    updatedAt: Instant
    cancelledAt: Instant | None = None
    currencyCode: str | None = None
    sourceName: str | None = None
    totalPriceSet: MoneyBag | None = None
    currentTotalPriceSet: MoneyBag | None = None
    shippingAddress: Address | None = None
    customAttributes: list[Attribute] = []
    fulfillments: list[Fulfillment] = []
    lineItems: list[LineItem] = []
    moreLineItems: bool = False
    fulfillmentOrders: list[FulfillmentOrder] = []

    @field_validator("lineItems", "fulfillmentOrders", mode="before")
    @classmethod
    def _connection_nodes(cls, v):
        if isinstance(v, dict):  # a paged query's connection: keep its nodes
            return v.get("nodes") or []
        return [] if v is None else v

    @field_validator("customAttributes", "fulfillments", mode="before")
    @classmethod
    def _none_is_empty(cls, v):
        return [] if v is None else v
