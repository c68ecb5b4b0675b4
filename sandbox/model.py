"""The sandbox's domain model: what the simulated world knows, before any vendor format.

`world.py` simulates these records; `server.py` renders them in the real APIs' formats. Records are
"as of now" views: the world returns what an API would return at that simulated instant, including
`updated_at`, so the server only filters (updated_at_min), paginates and formats.
All datetimes are timezone-aware UTC unless a field says otherwise."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Merchant:
    shop: str                      # shop handle, e.g. "green-living" (path segment in the sandbox)
    name: str
    kind: str                      # own_store | s2b2c_merchant | marketplace
    currency: str                  # ISO 4217
    shop_id: int


@dataclass(frozen=True)
class Supplier:
    code: str                      # e.g. "VN-BAMBOO-01"
    name: str
    tier: str                      # primary | backup | emergency
    country: str                   # ISO alpha-2
    city: str
    lat: float
    lon: float
    lead_time_days: float
    capacity_per_day: int
    updated_at: datetime


@dataclass(frozen=True)
class Sku:
    sku: str                       # e.g. "GL-BOWL-01"
    name: str
    sku_class: str                 # core | potential | long_tail
    unit_cost: float
    unit_price: float
    product_id: int                # Shopify product id
    variant_id: int                # Shopify variant id
    inventory_item_id: int         # Shopify inventory item id
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str              # e.g. "US-WEST-LA"
    location_id: int               # Shopify location id
    name: str
    kind: str                      # domestic | overseas | 3pl
    market: str                    # ISO alpha-2 it serves
    country: str
    province_code: str | None
    city: str
    address1: str
    zip: str
    lat: float
    lon: float
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Node:
    node_id: str                   # UN/LOCODE, e.g. "CNSZX" (Shenzhen), "USLAX"
    name: str
    kind: str                      # port | airport | hub
    country: str
    lat: float
    lon: float
    status: str                    # normal | congested | closed (as of now)
    updated_at: datetime


@dataclass(frozen=True)
class InventoryLevel:
    inventory_item_id: int
    location_id: int
    sku: str
    available: int                 # as of now
    updated_at: datetime           # time of the last change


@dataclass(frozen=True)
class OrderLine:
    line_id: int
    sku: str
    variant_id: int
    product_id: int
    title: str
    quantity: int
    price: float


@dataclass(frozen=True)
class Fulfillment:
    fulfillment_id: int
    location_id: int
    tracking_number: str
    tracking_company: str          # carrier display name, e.g. "UPS"
    created_at: datetime
    shipment_status: str | None    # Shopify values: confirmed, in_transit, out_for_delivery, delivered, failure …
    updated_at: datetime


@dataclass(frozen=True)
class Order:
    order_id: int
    shop: str
    order_number: int
    name: str                      # "#1001"
    created_at: datetime
    updated_at: datetime           # last change as of now
    currency: str
    channel: str                   # Shopify source_name: web | tiktok | marketplace | pos
    market: str                    # shipping_address.country_code
    city: str
    email: str
    lines: tuple[OrderLine, ...]
    subtotal_price: float
    shipping_price: float          # what the customer paid for shipping
    shipping_cost: float           # what shipping cost the seller (note attribute)
    total_price: float
    promised_delivery_at: datetime  # shown to the buyer at checkout (note attribute)
    location_id: int               # fulfilling warehouse
    financial_status: str          # paid | refunded | partially_refunded
    fulfillment_status: str | None  # None (unfulfilled) | fulfilled
    cancelled_at: datetime | None
    fulfillments: tuple[Fulfillment, ...] = ()


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_time_local: datetime  # naive: carrier's local wall time (the sandbox sometimes omits the offset)
    utc_offset_minutes: int | None   # offset of that local time; None = the carrier did not send one
    created_at: datetime             # when AfterShip recorded it (UTC)
    location: str
    city: str
    state: str | None
    country: str                   # ISO alpha-2
    lat: float | None              # None when the carrier sends no coordinate
    lon: float | None
    message: str
    tag: str                       # AfterShip tag
    subtag: str                    # e.g. "InTransit_007"


@dataclass(frozen=True)
class Tracking:
    id: str                        # AfterShip tracking id (32 hex chars)
    tracking_number: str
    slug: str                      # courier slug: ups, fedex, usps, dhl, cosco, maersk, sf-express …
    mode: str                      # sea | air | express | truck (custom_fields.mode)
    direction: str                 # inbound | outbound (custom_fields.direction)
    order_id: int | None           # outbound: Shopify order id
    order_number: str | None
    shop: str | None
    po_number: str | None          # inbound: purchase order
    warehouse_id: str              # inbound destination or outbound origin
    origin_country: str
    origin_city: str
    destination_country: str
    destination_city: str
    destination_lat: float
    destination_lon: float
    origin_lat: float
    origin_lon: float
    created_at: datetime
    updated_at: datetime           # last change as of now
    tag: str                       # as of now
    subtag: str
    subtag_message: str
    courier_estimated_delivery: datetime | None
    order_promised_delivery: datetime | None
    shipment_pickup_date: datetime | None
    shipment_delivery_date: datetime | None
    checkpoints: tuple[Checkpoint, ...] = ()  # those recorded by now, oldest first


@dataclass(frozen=True)
class PurchaseOrder:
    po_number: str
    supplier_code: str
    sku: str
    warehouse_id: str
    quantity_ordered: int
    unit_cost: float
    ordered_at: datetime
    promised_ship_date: datetime
    quantity_produced: int         # as of now
    quantity_qc_passed: int
    quantity_shipped: int
    status: str                    # open | in_production | shipped | closed | cancelled
    updated_at: datetime           # time of the latest progress report


@dataclass(frozen=True)
class ReturnItem:
    sku: str
    quantity: int
    reason: str                    # wrong_item | damaged | not_as_described | changed_mind | late_delivery | too_small


@dataclass(frozen=True)
class Return:
    rma_number: str
    order_id: int
    order_number: str
    shop: str
    country: str
    items: tuple[ReturnItem, ...]
    created_at: datetime
    updated_at: datetime
    approval_status: str           # submitted | approved | done | rejected | expired (as of now)
    refunded_at: datetime | None
    return_total: float
    currency: str


@dataclass(frozen=True)
class SurveyResponse:
    """One answer to a post-delivery survey (a Delighted project: NPS or CSAT)."""
    id: int
    order_id: int
    order_number: str
    shop: str
    market: str
    email: str
    score: int                     # nps: 0–10; csat: 1–5
    comment: str
    created_at: datetime
    updated_at: datetime
    survey_type: str = "nps"       # nps | csat (Delighted's `survey_type`)


NpsResponse = SurveyResponse       # the name callers (and the fixture world) already use


@dataclass(frozen=True)
class Forecast:
    sku: str
    market: str
    period_start: datetime         # hour
    units: float
    updated_at: datetime


@dataclass(frozen=True)
class StockPolicy:
    sku: str
    warehouse_id: str
    safety_qty: int
    warning_qty: int               # warning_qty >= safety_qty >= limit_qty
    limit_qty: int
    updated_at: datetime


@dataclass(frozen=True)
class PromotionEvent:
    event_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    kind: str                      # promotion | disruption
    updated_at: datetime


@dataclass(frozen=True)
class ScenarioWindow:
    """A scenario switched on for a simulated time window (ends_at None = open ended)."""
    name: str                      # member_day | demand_surge | supplier_outage | port_congestion | carrier_exceptions
    starts_at: datetime
    ends_at: datetime | None
    params: dict = field(default_factory=dict, hash=False, compare=False)
