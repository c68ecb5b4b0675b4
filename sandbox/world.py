"""The sandbox world: a deterministic simulation of the "Green Living" supply chain (DESIGN §1).

How it works
- Time advances in fixed steps (`STEP`, 5 sim-minutes) on a grid anchored at `start` (= anchor −
  history). A step runs only once it has fully passed (`step end <= now`), so every record it makes is
  in the past; "as of now" views show exactly what the completed steps made (cut `c` = the grid point
  at or before now). Before `start`, a coarse warm-up (1-hour steps, no customer orders) builds the
  purchase-order pipeline and the stock levels the history starts from.
- Each step draws from its own seeded RNG stream; entities with a planned future (trackings, returns,
  NPS answers, PO production) use streams keyed by their own id. Same seed + same clock readings →
  the same records, however often and in whatever order the views are asked for.
- Entities keep version lists (times of change) and views bisect them, so a view at any past instant
  is cheap and independent of how far the simulation has run. Rendered records are memoised per
  entity version.
- Shipments are planned when created (checkpoints, ETA revisions) against the scenario calendar; when
  scenarios switch (`set_scenarios`) the plans of shipments still moving are redone from the switch
  instant on, and everything before it stays as it was."""
from __future__ import annotations

import bisect
import heapq
import math
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from sandbox import catalog as cat
from sandbox.catalog import Place
from sandbox.model import (
    Checkpoint,
    Forecast,
    Fulfillment,
    InventoryLevel,
    Merchant,
    Node,
    NpsResponse,
    Order,
    OrderLine,
    PromotionEvent,
    PurchaseOrder,
    Return,
    ReturnItem,
    ScenarioWindow,
    Sku,
    StockPolicy,
    Supplier,
    SurveyResponse,
    Tracking,
    Warehouse,
)
from sandbox.scenarios import Calendar, scenario_windows  # noqa: F401  (re-exported for callers)
from tower.clock import utc

_FAR = datetime(9999, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
WARMUP = timedelta(days=50)
WARMUP_STEP = timedelta(hours=1)
PLAN_EVERY_H = 6                 # replenishment review interval (hours)
REVIEW_DAYS = 2                  # extra days of demand the reorder point covers
ORDER_DAYS = 14                  # days of demand one replenishment round orders
PROCESSING_H = (2, 16)           # warehouse pick/pack before handover: 2 h + up to 16 h
QC_HOURS = 8                     # QC + packing between end of production and handover
H = timedelta(hours=1)
CSAT_ANSWER_RATE = 0.3           # share of delivered orders whose CSAT survey is answered
CSAT_DELAY_H = (2, 72)           # the answer comes 2 h … 3 days after delivery
UNITS_PER_ORDER_LINES = ((1, 0.6), (2, 0.3), (3, 0.1))
QTY_PER_LINE = ((1, 0.7), (2, 0.2), (3, 0.1))
EXPECTED_UNITS_PER_ORDER = sum(n * p for n, p in UNITS_PER_ORDER_LINES) * sum(q * p for q, p in QTY_PER_LINE)

SUBTAG_MESSAGES = {
    "Pending_001": "Pending", "InfoReceived_001": "Info Received", "InTransit_001": "In Transit",
    "InTransit_002": "Acceptance scan", "InTransit_003": "Arrival scan",
    "InTransit_004": "Arrived at the destination country/region", "InTransit_005": "Customs clearance completed",
    "InTransit_006": "Customs clearance started", "InTransit_007": "Departure Scan",
    "InTransit_008": "Problem resolved", "OutForDelivery_001": "Out for Delivery", "Delivered_001": "Delivered",
    "Delivered_003": "Signed by customer", "Exception_004": "Delayed (Customs clearance)",
    "Exception_005": "Delayed (External factors)", "Exception_007": "Incorrect address",
    "Exception_010": "Returning to sender",
}
SHIPMENT_STATUS = {"InfoReceived": "confirmed", "InTransit": "in_transit", "OutForDelivery": "out_for_delivery",
                   "Delivered": "delivered", "Exception": "in_transit"}


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _rng(*key) -> random.Random:
    """An independent, reproducible random stream for a key (str seeding hashes with SHA-512)."""
    return random.Random(":".join(str(k) for k in key))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:                                   # normal approximation for large means
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _km(a: Place, b: Place) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def _pick(rng: random.Random, pairs):
    """Weighted choice from ((value, weight), …)."""
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


# ─── shipments: routes and plans ────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Stop:
    """A planned checkpoint: reached `lo`–`hi` hours after the previous one."""
    place: Place
    tag: str
    subtag: str
    message: str
    lo: float
    hi: float
    kind: str = ""               # "" | "depart_sea" (port congestion applies) | "transit" (carrier exceptions)
    node: str | None = None


@dataclass
class _Track:
    id: str
    number: str
    slug: str
    company: str
    mode: str
    direction: str
    warehouse_id: str
    origin: Place
    dest: Place
    created_at: datetime
    stops: tuple[Stop, ...]
    promised: datetime | None = None
    order: _Order | None = None
    po: _Po | None = None
    no_offset_share: float = 0.15
    eta_noise_h: float = 6.0
    # the plan (redone when scenarios switch)
    checkpoints: tuple[Checkpoint, ...] = ()
    cp_times: list = field(default_factory=list)       # checkpoint created_at (visibility), ascending
    eta_times: list = field(default_factory=list)
    eta_values: list = field(default_factory=list)
    pickup_at: datetime | None = None
    delivered_at: datetime | None = None               # event time of the Delivered checkpoint
    delivered_seen: datetime | None = None             # when that checkpoint was recorded (stock moves then)
    ends_at: datetime | None = None                    # time of the last planned checkpoint
    delivered_done: bool = False                       # delivery already applied by the simulation
    rev: int = 0
    memo: dict = field(default_factory=dict)


@dataclass
class _Order:
    order_id: int
    shop: str
    number: int
    created_at: datetime
    currency: str
    channel: str
    market: str
    city: cat.City
    email: str
    lines: tuple[OrderLine, ...]
    subtotal: float
    shipping_price: float
    shipping_cost: float
    promised: datetime
    warehouse_id: str
    location_id: int
    fulfillment_id: int
    track: _Track | None = None
    refunds: list = field(default_factory=list)        # [(time, amount)] ascending
    memo: dict = field(default_factory=dict)


@dataclass
class _Po:
    number: str
    supplier: cat.SupplierSpec
    sku: str
    warehouse_id: str
    qty: int
    unit_cost: float
    ordered_at: datetime
    promised_ship: datetime
    start_at: datetime                                  # production starts (once acknowledged)
    rate_per_h: float
    yield_: float
    produced: float = 0.0
    complete_at: datetime | None = None
    shipped_qty: int = 0
    track: _Track | None = None
    arrived: bool = False
    acked: bool = False
    closed: bool = False
    v_times: list = field(default_factory=list)        # report times
    v_states: list = field(default_factory=list)       # (produced, qc, shipped, status)
    memo: dict = field(default_factory=dict)


@dataclass
class _Return:
    rma: str
    order: _Order
    items: tuple[ReturnItem, ...]
    created_at: datetime
    decided_at: datetime
    approved: bool
    refunded_at: datetime | None
    total: float
    memo: dict = field(default_factory=dict)


def _place_of_warehouse(wh_id: str) -> Place:
    return cat.WAREHOUSE_BY_ID[wh_id].place


def _node_place(node_id: str) -> Place:
    return cat.NODE_BY_ID[node_id].place


# Inbound routes: (supplier, destination warehouse) → (mode, freight key, stops).
def _inbound_route(supplier: cat.SupplierSpec, wh_id: str) -> tuple[str, str, tuple[Stop, ...]] | None:
    f, w = supplier.place, _place_of_warehouse(wh_id)
    n = _node_place
    ready = Stop(f, "InfoReceived", "InfoReceived_001", "Booking confirmed, cargo ready at shipper", 0.2, 1)
    if supplier.code == "VN-BAMBOO-01":
        to_border = (ready,
                     Stop(f, "InTransit", "InTransit_002", "Cargo picked up by truck at factory", 3, 10),
                     Stop(n("VNDDG"), "InTransit", "InTransit_007", "Departed Huu Nghi border gate, export cleared",
                          18, 30, node="VNDDG"))
        szx = _place_of_warehouse("CN-SZ-DC")
        if wh_id == "CN-SZ-DC":
            return "truck", "truck_cn", to_border + (
                Stop(szx, "OutForDelivery", "OutForDelivery_001", "Out for delivery to consolidation centre", 14, 30),
                Stop(szx, "Delivered", "Delivered_001", "Received at Shenzhen consolidation centre", 2, 5))
        if wh_id in ("US-WEST-LA", "US-EAST-NJ"):
            pod = "USLAX" if wh_id == "US-WEST-LA" else "USNYC"
            sea_h = (300, 370) if pod == "USLAX" else (640, 740)
            return "sea", "sea", to_border + (
                Stop(szx, "InTransit", "InTransit_003", "Received at Shenzhen consolidation centre", 20, 36),
                Stop(n("CNYTN"), "InTransit", "InTransit_003", "Gate in full at Yantian terminal", 24, 60,
                     node="CNYTN"),
                Stop(n("CNYTN"), "InTransit", "InTransit_007", "Vessel departed Yantian", 20, 44,
                     kind="depart_sea", node="CNYTN"),
                Stop(n(pod), "InTransit", "InTransit_004", f"Vessel arrived at {n(pod).city}", *sea_h, node=pod),
                Stop(n(pod), "InTransit", "InTransit_006", "Discharged, customs clearance started", 10, 30,
                     node=pod),
                Stop(n(pod), "InTransit", "InTransit_005", "Customs released", 10, 40, node=pod),
                Stop(n(pod), "OutForDelivery", "OutForDelivery_001", "Gate out, on truck to warehouse", 6, 20,
                     node=pod),
                Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 2, 8))
        if wh_id == "EU-3PL-DE":
            return "sea", "sea", (
                ready,
                Stop(f, "InTransit", "InTransit_002", "Cargo picked up by truck at factory", 3, 10),
                Stop(n("VNHPH"), "InTransit", "InTransit_003", "Gate in full at Haiphong", 24, 40, node="VNHPH"),
                Stop(n("VNHPH"), "InTransit", "InTransit_007", "Vessel departed Haiphong", 20, 56,
                     kind="depart_sea", node="VNHPH"),
                Stop(n("NLRTM"), "InTransit", "InTransit_004", "Vessel arrived at Rotterdam", 680, 780, node="NLRTM"),
                Stop(n("NLRTM"), "InTransit", "InTransit_006", "Discharged, customs clearance started", 10, 30,
                     node="NLRTM"),
                Stop(n("NLRTM"), "InTransit", "InTransit_005", "Customs released", 8, 30, node="NLRTM"),
                Stop(n("NLRTM"), "OutForDelivery", "OutForDelivery_001", "On barge/truck to Duisburg", 10, 30),
                Stop(w, "Delivered", "Delivered_001", "Delivered to 3PL dock", 2, 8))
        return None
    if supplier.code == "CN-ANJI-02":
        pickup = Stop(f, "InTransit", "InTransit_002", "Picked up at factory", 3, 10)
        if wh_id == "CN-SZ-DC":
            return "truck", "truck_cn", (
                ready, pickup,
                Stop(_node_place("CNPVG"), "InTransit", "InTransit_007", "Departed Hangzhou line-haul hub", 8, 16),
                Stop(w, "OutForDelivery", "OutForDelivery_001", "Out for delivery", 24, 40),
                Stop(w, "Delivered", "Delivered_001", "Received at Shenzhen consolidation centre", 2, 5))
        airport = {"US-WEST-LA": "USLAX", "US-EAST-NJ": "USJFK", "EU-3PL-DE": "DEFRA"}[wh_id]
        return "air", "air", (
            ready, pickup,
            Stop(n("CNPVG"), "InTransit", "InTransit_003", "Received at Shanghai Pudong air cargo terminal", 6, 14,
                 node="CNPVG"),
            Stop(n("CNPVG"), "InTransit", "InTransit_007", "Flight departed Shanghai Pudong", 10, 36, node="CNPVG"),
            Stop(n(airport), "InTransit", "InTransit_004", f"Flight arrived at {n(airport).city}", 13, 20,
                 node=airport),
            Stop(n(airport), "InTransit", "InTransit_006", "Customs clearance started", 2, 10, node=airport),
            Stop(n(airport), "InTransit", "InTransit_005", "Customs released", 6, 30, node=airport),
            Stop(n(airport), "OutForDelivery", "OutForDelivery_001", "On truck to warehouse", 3, 10),
            Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 2, 6))
    if supplier.code == "PRINT3D-LA" and wh_id in ("US-WEST-LA", "US-EAST-NJ"):
        if wh_id == "US-WEST-LA":
            return "truck", "truck", (
                ready, Stop(f, "InTransit", "InTransit_002", "Picked up", 2, 6),
                Stop(w, "OutForDelivery", "OutForDelivery_001", "Out for delivery", 3, 8),
                Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 1, 3))
        return "truck", "truck", (
            ready, Stop(f, "InTransit", "InTransit_002", "Picked up", 2, 6),
            Stop(n("USMEM"), "InTransit", "InTransit_003", "Arrived at terminal", 36, 50, node="USMEM"),
            Stop(n("USMEM"), "InTransit", "InTransit_007", "Departed terminal", 4, 12, node="USMEM"),
            Stop(w, "OutForDelivery", "OutForDelivery_001", "Out for delivery", 30, 44),
            Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 2, 5))
    return None


def _route_mean_days(stops: tuple[Stop, ...]) -> float:
    return sum((s.lo + s.hi) / 2 for s in stops) / 24


def _tracking_number(rng: random.Random, style: str) -> str:
    digits = lambda n: "".join(rng.choices("0123456789", k=n))
    upper = lambda n: "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=n))
    return {
        "ups": lambda: "1Z" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", k=6)) + digits(10),
        "fedex": lambda: digits(12),
        "usps": lambda: "9400" + digits(18),
        "dhl": lambda: digits(10),
        "dpd": lambda: "0" + digits(13),
        "royal-mail": lambda: upper(2) + digits(9) + "GB",
        "colissimo": lambda: "6A" + digits(11),
        "canada-post": lambda: digits(16),
        "yunexpress": lambda: "YT" + digits(16),
        "maersk": lambda: "MSKU" + digits(7),
        "cosco": lambda: "CSNU" + digits(7),
        "dhl-global-forwarding": lambda: digits(10),
        "fedex-freight": lambda: digits(10),
        "sf-express": lambda: "SF" + digits(13),
    }[style]()


FREIGHT_NAMES = {"maersk": "Maersk", "cosco": "COSCO Shipping", "dhl-global-forwarding": "DHL Global Forwarding",
                 "fedex-freight": "FedEx Freight", "sf-express": "SF Express"}


# ─── the world ──────────────────────────────────────────────────────────────────────────────────
class World:
    """The simulated supply chain; see the module doc and sandbox/README.md (World API)."""

    def __init__(self, seed: int, clock, history_days: float = 7,
                 scenarios: list[ScenarioWindow] | None = None):
        self.seed = int(seed)
        self.clock = clock
        self.anchor = utc(clock.now())
        epoch_steps = math.floor((self.anchor - timedelta(days=history_days)).timestamp() / STEP.total_seconds())
        self.start = datetime.fromtimestamp(epoch_steps * STEP.total_seconds(), UTC)
        self.history_days = history_days
        self._lock = threading.RLock()
        self.calendar = Calendar.of(scenarios, self.start)
        self._switches: list[datetime] = []           # instants when scenarios were switched
        self._build_reference()
        # state
        self._stock: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        self._inv_times: dict[tuple[str, str], list] = {}
        self._inv_values: dict[tuple[str, str], list] = {}
        self._queue: list = []                        # (time, seq, kind, obj, rev)
        self._seq = 0
        self._orders: list[_Order] = []
        self._orders_by_shop: dict[str, tuple[list, list]] = {m.shop: ([], []) for m in cat.MERCHANTS}
        self._order_seq = 0
        self._line_seq = 0
        self._shop_numbers = {m.shop: 1000 for m in cat.MERCHANTS}
        self._track_keys: list = []                   # (created_at, seq) ascending
        self._tracks: list[_Track] = []
        self._moving: list[_Track] = []               # trackings whose plan still has future checkpoints
        self._pos: list[_Po] = []
        self._po_seq = 0
        self._open_pos: list[_Po] = []
        self._returns_keys: list = []
        self._returns: list[_Return] = []
        self._nps_keys: list = []
        self._nps: list[NpsResponse] = []
        self._nps_seq = 0
        self._csat_keys: list = []                    # (created_at, seq) ascending
        self._csat: list[SurveyResponse] = []
        self._csat_seq = 0
        self._lost: list[tuple[datetime, str, str, int]] = []   # (time, sku, market, units) not served
        self._cache: dict = {}
        self._day_factors: dict[tuple[str, str], float] = {}
        self._forecast_hours: dict[datetime, list[Forecast]] = {}
        self.initial_stock: dict[tuple[str, str], int] = {}
        self._warm_up()
        self._t = self.start                          # simulated up to here (a grid point)
        self._advance(self._cut(self.anchor))

    # ─── reference data ─────────────────────────────────────────────────────────────────────────
    def _build_reference(self) -> None:
        s0 = self.start
        self.merchants = [Merchant(m.shop, m.name, m.kind, m.currency, m.shop_id) for m in cat.MERCHANTS]
        self.suppliers = [Supplier(s.code, s.name, s.tier, s.place.country, s.place.city, s.place.lat, s.place.lon,
                                   s.lead_time_days, s.capacity_per_day, s0) for s in cat.SUPPLIERS]
        self.skus = [Sku(s.sku, s.name, s.sku_class, s.unit_cost, s.unit_price, 8_012_345_600_000 + i * 1013,
                         44_123_456_700_000 + i * 1009, 46_234_567_800_000 + i * 1019, s0 - timedelta(days=400), s0)
                     for i, s in enumerate(cat.SKUS)]
        self._sku = {s.sku: s for s in self.skus}
        self._sku_spec = {s.sku: s for s in cat.SKUS}
        self.warehouses = [Warehouse(w.warehouse_id, 71_234_567_890 + i * 1117, w.name, w.kind, w.market,
                                     w.place.country, w.province_code, w.place.city, w.address1, w.zip,
                                     w.place.lat, w.place.lon, s0 - timedelta(days=400), s0)
                           for i, w in enumerate(cat.WAREHOUSES)]
        self._location = {w.warehouse_id: w.location_id for w in self.warehouses}
        self._keys = [(s.sku, w.warehouse_id) for s in cat.SKUS for w in cat.WAREHOUSES]
        # Actual line mix per market (the forecast uses the catalog weights; trending skus sell more).
        self._sku_cum = {m: list(_cumulative(s.weight * cat.TRENDING.get((s.sku, m), 1.0) for s in cat.SKUS))
                         for m in cat.MARKETS}
        curve_total = sum(cat.DAILY_CURVE)
        self._curve = [c * 24 / curve_total for c in cat.DAILY_CURVE]   # mean 1.0 over a day
        # Expected daily units per sku×warehouse (no promotions): forecast share routed to each warehouse.
        share_total = sum(weight for weight, _, _ in cat.MARKETS.values())
        # `_daily` is what planning expects (forecast mix); `_actual_daily` what the warm-up consumes.
        self._daily: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        self._actual_daily: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        weight_total = sum(s.weight for s in cat.SKUS)
        for market, (share, _, cities) in cat.MARKETS.items():
            orders = cat.BASE_ORDERS_PER_DAY * share / share_total
            city_total = sum(c.weight for c in cities)
            actual_total = self._sku_cum[market][-1]
            for city in cities:
                wh = cat.FULFILMENT[city.region][0]
                units = orders * city.weight / city_total * EXPECTED_UNITS_PER_ORDER
                for s in cat.SKUS:
                    self._daily[(s.sku, wh)] += units * s.weight / weight_total
                    self._actual_daily[(s.sku, wh)] += (units * s.weight * cat.TRENDING.get((s.sku, market), 1.0)
                                                        / actual_total)
        for s in cat.SKUS:   # the cross-border fallback keeps a small buffer: 3 % of the sku's demand
            self._daily[(s.sku, "CN-SZ-DC")] = 0.03 * sum(self._daily[(s.sku, w.warehouse_id)]
                                                         for w in cat.WAREHOUSES)
            self._actual_daily[(s.sku, "CN-SZ-DC")] = 0.0
        self._market_orders = {m: cat.BASE_ORDERS_PER_DAY * share / share_total
                               for m, (share, _, _) in cat.MARKETS.items()}
        # Routes, lead times and tier shares per destination.
        self._routes = {}
        for sup in cat.SUPPLIERS:
            for w in cat.WAREHOUSES:
                route = _inbound_route(sup, w.warehouse_id)
                if route:
                    self._routes[(sup.code, w.warehouse_id)] = route
        self._tiers: dict[str, list[tuple[cat.SupplierSpec, float]]] = {}
        self._lead: dict[str, float] = {}
        for w in cat.WAREHOUSES:
            serving = [s for s in cat.SUPPLIERS if (s.code, w.warehouse_id) in self._routes]
            total = sum(s.share for s in serving)
            self._tiers[w.warehouse_id] = [(s, s.share / total) for s in serving]
            self._lead[w.warehouse_id] = sum(
                share * (s.lead_time_days + _route_mean_days(self._routes[(s.code, w.warehouse_id)][2]))
                for s, share in self._tiers[w.warehouse_id])
        self._policies = {}
        for sku, wh in self._keys:
            cover = cat.COVER_DAYS[self._sku_spec[sku].sku_class]
            d = self._daily[(sku, wh)]
            safety = max(3, round(d * cover / 3))
            self._policies[(sku, wh)] = (safety, max(safety + 1, round(safety * 1.5)), max(1, round(safety * 0.3)))

    # ─── time ───────────────────────────────────────────────────────────────────────────────────
    def _cut(self, now: datetime) -> datetime:
        """The grid point at or before `now`: what the completed steps show."""
        now = utc(now)
        if now <= self.start:
            return self.start
        steps = (now - self.start) // STEP
        return self.start + steps * STEP

    def _advance(self, c: datetime) -> None:
        while self._t < c:
            self._step(self._t, STEP, warm=False)
            self._t += STEP

    def _view(self, name: str, now: datetime, arg=None):
        """(cut, cached result or None) for a view; advances the simulation to the cut."""
        c = self._cut(now)
        self._advance(c)
        return c, self._cache.get((name, c, arg))

    def _remember(self, name: str, c: datetime, arg, value):
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[(name, c, arg)] = value
        return value

    # ─── warm-up: the pipeline and stock the history starts from ────────────────────────────────
    def _warm_up(self) -> None:
        for key in self._keys:
            sku, wh = key
            cover = cat.COVER_DAYS[self._sku_spec[sku].sku_class]
            jitter = _rng(self.seed, "init", sku, wh).uniform(0.85, 1.15)
            self._stock[key] = self._daily[key] * (self._lead[wh] + 0.6 * cover) * jitter
        t = _floor_hour(self.start - WARMUP)
        while t < self.start:
            dt = min(WARMUP_STEP, self.start - t)
            self._step(t, dt, warm=True)
            t += dt
        for key in self._keys:
            value = max(0, round(self._stock[key]))
            self._stock[key] = value
            self.initial_stock[key] = value
            self._inv_times[key] = [self.start]
            self._inv_values[key] = [value]

    # ─── one step of simulated time ─────────────────────────────────────────────────────────────
    def _step(self, t: datetime, dt: timedelta, warm: bool) -> None:
        end = t + dt
        rng = _rng(self.seed, "step", int(t.timestamp()))
        happenings: list = []                          # (time, seq, kind, payload) inside the step
        while self._queue and self._queue[0][0] < end:
            when, seq, kind, obj, rev = heapq.heappop(self._queue)
            if obj.rev == rev:
                happenings.append((when, seq, kind, obj))
        if warm:
            hours = dt / H
            for key in self._keys:
                self._stock[key] = max(0.0, self._stock[key] - self._actual_daily[key] * hours / 24)
        else:
            for when, demand in self._demand(t, dt, rng):
                self._seq += 1
                happenings.append((when, self._seq, "demand", demand))
        happenings.sort(key=lambda h: (h[0], h[1]))
        for when, _, kind, obj in happenings:
            if kind == "arrive":
                self._arrive(obj, when, warm)
            elif kind == "delivered":
                self._after_delivery(obj)
            else:
                self._place_order(when, obj)
        self._produce(t, dt)
        self._reports(t, end)
        if (t.hour % PLAN_EVERY_H == 2) and t.minute == 0:
            self._replenish(t, rng)

    def _push(self, when: datetime, kind: str, obj) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, kind, obj, obj.rev))

    def _set_stock(self, key, value: int, when: datetime, warm: bool) -> None:
        self._stock[key] = value
        if warm:
            return
        times, values = self._inv_times[key], self._inv_values[key]
        if times[-1] == when:
            values[-1] = value
        else:
            times.append(when)
            values.append(value)

    # ─── demand and orders ──────────────────────────────────────────────────────────────────────
    def _local_hour(self, market: str, hour_start: datetime) -> int:
        return _local_hour(cat.MARKETS[market][1], hour_start)

    def _day_factor(self, market: str, day: str) -> float:
        """Day-to-day swing of a market's demand (weather, news): not in the forecast."""
        hit = self._day_factors.get((market, day))
        if hit is None:
            hit = self._day_factors[(market, day)] = _rng(self.seed, "day", market, day).uniform(0.9, 1.1)
        return hit

    def _hour_rate(self, market: str, hour_start: datetime) -> float:
        """Forecast orders per hour in a market (includes the planned promotion uplift)."""
        return (self._market_orders[market] / 24 * self._curve[self._local_hour(market, hour_start)]
                * self.calendar.planned_uplift(hour_start))

    def _demand(self, t: datetime, dt: timedelta, rng: random.Random):
        hour = t.replace(minute=0, second=0, microsecond=0)
        surprise = self.calendar.surprise(t)
        day = t.date().isoformat()
        out = []
        for market in cat.MARKETS:
            lam = self._hour_rate(market, hour) * (dt / H) * surprise * self._day_factor(market, day)
            for _ in range(_poisson(rng, lam)):
                when = t + timedelta(seconds=rng.randrange(int(dt.total_seconds())))
                out.append((when, self._draw_order(rng, market)))
        return out

    def _draw_order(self, rng: random.Random, market: str) -> dict:
        _, _, cities = cat.MARKETS[market]
        city = rng.choices(cities, [c.weight for c in cities])[0]
        shop = _pick(rng, cat.MERCHANT_MIX[market])
        channel = _pick(rng, cat.MERCHANT_BY_SHOP[shop].channels)
        wanted: dict[str, int] = {}
        cum = self._sku_cum[market]
        for _ in range(_pick(rng, UNITS_PER_ORDER_LINES)):
            sku = cat.SKUS[bisect.bisect_right(cum, rng.random() * cum[-1])].sku
            wanted[sku] = wanted.get(sku, 0) + _pick(rng, QTY_PER_LINE)
        return {"market": market, "city": city, "shop": shop, "channel": channel, "wanted": wanted,
                "u": [rng.random() for _ in range(8)], "first": rng.choice(cat.FIRST_NAMES),
                "last": rng.choice(cat.LAST_NAMES)}

    def _place_order(self, when: datetime, d: dict) -> None:
        wanted: dict[str, int] = d["wanted"]
        best, best_lines = None, {}
        for wh in cat.FULFILMENT[d["city"].region]:
            lines = {s: q for s, q in wanted.items() if self._stock[(s, wh)] >= q}
            if len(lines) > len(best_lines):
                best, best_lines = wh, lines
            if len(lines) == len(wanted):
                break
        for sku, qty in wanted.items():
            if sku not in best_lines:                 # nobody can serve it: a lost sale, never negative stock
                self._lost.append((when, sku, d["market"], qty))
        if not best_lines:
            return
        for sku, qty in best_lines.items():
            key = (sku, best)
            self._set_stock(key, int(self._stock[key]) - qty, when, warm=False)
        self._create_order(when, d, best, best_lines)

    def _create_order(self, when: datetime, d: dict, wh: str, lines_wanted: dict[str, int]) -> None:
        u = d["u"]
        merchant = cat.MERCHANT_BY_SHOP[d["shop"]]
        self._order_seq += 1
        n = self._order_seq
        order_id = 5_610_000_000_000 + n * 1000 + int(u[0] * 997)
        lines = []
        for sku, qty in lines_wanted.items():
            self._line_seq += 1
            spec = self._sku[sku]
            price = spec.unit_price if merchant.fx == 1.0 else round(spec.unit_price * merchant.fx) - 0.01
            lines.append(OrderLine(13_900_000_000_000 + self._line_seq * 37, sku, spec.variant_id, spec.product_id,
                                   spec.name, qty, price))
        subtotal = round(sum(line.price * line.quantity for line in lines), 2)
        free_from = 50.0 if merchant.currency == "USD" else 45.0
        shipping_price = 0.0 if subtotal >= free_from else (5.95 if merchant.currency == "USD" else 4.95)
        kind = self._promise_kind(wh, d["market"], d["city"].region)
        base_cost = {"near": 6.5, "far": 9.5, "cross_border": 12.0, "china": 15.0}[kind]
        shipping_cost = round(base_cost * (0.85 + 0.3 * u[1]) * merchant.fx, 2)
        self._shop_numbers[merchant.shop] += 1
        number = self._shop_numbers[merchant.shop]
        stops = self._outbound_stops(wh, d["market"], d["city"], u)
        # The checkout promise is a date ("arrives by Fri"): the route's usual time (processing +
        # transit) plus a margin, to the end of that day. Calibrated so that a calm week is ~96 % on
        # time (a green war room) and a missed sort or a carrier exception still makes a parcel late.
        usual_h = PROCESSING_H[0] + PROCESSING_H[1] / 2 + sum((s.lo + s.hi) / 2 for s in stops)
        promised = _end_of_day(when + timedelta(hours=usual_h * 1.2 + 12))
        order = _Order(order_id, merchant.shop, number, when, merchant.currency, d["channel"], d["market"],
                       d["city"], f"{d['first']}.{d['last']}{n % 997}@example.com", tuple(lines), subtotal,
                       shipping_price, shipping_cost, promised, wh,
                       self._location[wh], 4_810_000_000_000 + n * 1000 + int(u[2] * 997))
        self._orders.append(order)
        times, orders = self._orders_by_shop[merchant.shop]
        times.append(when)
        orders.append(order)
        # Warehouse processing before the parcel is handed over.
        ship_at = _sec(when + timedelta(hours=PROCESSING_H[0] + PROCESSING_H[1] * u[3]))
        self._outbound(order, ship_at, stops, u)

    def _promise_kind(self, wh: str, market: str, region: str) -> str:
        if wh == "CN-SZ-DC":
            return "china"
        if wh == "EU-3PL-DE":
            return "cross_border" if market == "GB" else ("near" if market == "DE" else "far")
        if market == "CA":
            return "cross_border"
        return "near" if cat.FULFILMENT[region][0] == wh else "far"

    # ─── shipments ──────────────────────────────────────────────────────────────────────────────
    def _outbound(self, order: _Order, ship_at: datetime, stops: list[Stop], u: list) -> None:
        wh = cat.WAREHOUSE_BY_ID[order.warehouse_id]
        origin = _origin(wh.warehouse_id)
        options = cat.CARRIERS.get((origin, order.market)) or cat.CARRIERS[(origin, "*")]
        slug, company, style, _ = options[min(len(options) - 1, _index(u[4], [o[3] for o in options]))]
        rng = _rng(self.seed, "trkid", order.order_id)
        track = _Track(
            id=f"{rng.getrandbits(128):032x}", number=_tracking_number(rng, style), slug=slug, company=company,
            mode="express", direction="outbound", warehouse_id=order.warehouse_id, origin=wh.place,
            dest=order.city.place, created_at=ship_at, stops=tuple(stops), promised=order.promised, order=order,
            no_offset_share={"usps": 0.5, "yunexpress": 0.6}.get(slug, 0.1))
        order.track = track
        self._add_track(track)

    def _outbound_stops(self, wh_id: str, market: str, city: cat.City, u: list) -> list[Stop]:
        """The checkpoints a parcel passes from a warehouse to a customer's city."""
        origin = _origin(wh_id)
        dest = city.place
        hub_id = cat.LAST_MILE_HUB.get((market, city.region))
        w = cat.WAREHOUSE_BY_ID[wh_id].place
        road_h = max(6.0, _km(w, dest) / 55)            # line-haul hours at truck/air-mix speed
        stops = [Stop(w, "InfoReceived", "InfoReceived_001", "Shipping label created", 0.05, 0.5),
                 Stop(w, "InTransit", "InTransit_002", "Picked up by carrier", 1, 8),
                 Stop(w, "InTransit", "InTransit_007", "Departed origin facility", 1, 4, kind="transit")]
        if origin == "CN":
            gateway = _node_place(hub_id) if hub_id else dest
            stops += [Stop(_node_place("HKHKG"), "InTransit", "InTransit_007", "Departed Hong Kong on flight",
                           12, 48, kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_004", "Arrived in destination country", 18, 40,
                           kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_006", "Customs clearance started", 2, 12, kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_005", "Customs clearance completed", 6, 48,
                           kind="transit")]
        elif hub_id and _km(w, dest) > 400:
            hub = _node_place(hub_id)
            stops += [Stop(hub, "InTransit", "InTransit_003", "Arrived at sort hub", road_h * 0.4, road_h * 0.7,
                           kind="transit"),
                      Stop(hub, "InTransit", "InTransit_007", "Departed sort hub", 2, 8, kind="transit")]
        if market in ("GB", "CA") and origin != "CN":
            stops += [Stop(dest, "InTransit", "InTransit_006", "Customs clearance started", 4, 12, kind="transit"),
                      Stop(dest, "InTransit", "InTransit_005", "Customs clearance completed", 4, 30, kind="transit")]
        last_leg = road_h * 0.5 if origin != "CN" else 12
        stops += [Stop(dest, "InTransit", "InTransit_003", "Arrived at delivery facility", last_leg * 0.6,
                       last_leg * 1.4 + 6, kind="transit"),
                  Stop(dest, "OutForDelivery", "OutForDelivery_001", "Out for delivery", 6, 20, kind="transit"),
                  Stop(dest, "Delivered", "Delivered_001" if u[5] < 0.8 else "Delivered_003", "Delivered", 2, 7)]
        return stops

    def _add_track(self, track: _Track) -> None:
        self._plan(track)
        self._seq += 1
        key = (track.created_at, self._seq)
        i = bisect.bisect_right(self._track_keys, key)
        self._track_keys.insert(i, key)
        self._tracks.insert(i, track)
        self._moving.append(track)
        kind = "arrive" if track.direction == "inbound" else "delivered"
        if track.delivered_seen is not None:
            self._push(track.delivered_seen, kind, track)

    def _plan(self, tr: _Track) -> None:
        """Lay out a shipment's checkpoints and ETA revisions under the scenario calendar.

        Base timings come from the tracking's own stream (identical on every replan); scenario effects
        (port congestion at a sea departure, carrier exceptions in transit) only add delay from the
        instant they occur, so replanning after a switch leaves everything before it unchanged."""
        rb = _rng(self.seed, "trk", tr.id)
        rx = _rng(self.seed, "trkx", tr.id)
        draws = [(rb.uniform(s.lo, s.hi), rb.uniform(3, 50), rb.random(), rb.random()) for s in tr.stops]
        missed_sort = rb.random() < 0.12 and tr.direction == "outbound"   # a parcel misses a sort: ~+1 day
        missed_h = rb.uniform(20, 44)
        missed_at = rb.randrange(2, max(3, len(tr.stops) - 1))
        eta_noise = timedelta(hours=rb.gauss(0, tr.eta_noise_h))
        exc_u, exc_kind, exc_delay, exc_return = rx.random(), rx.random(), rx.uniform(24, 72), rx.random()
        cong_extra = rx.uniform(8, 30)
        base_total = sum(h for h, *_ in draws)
        eta0 = _round_hour(tr.created_at + timedelta(hours=base_total) + eta_noise)
        events: list[tuple[datetime, Place, str, str, str, float, float, float]] = []
        eta_revs: list[tuple[datetime, datetime]] = [(tr.created_at, eta0)]
        t = tr.created_at
        shift = timedelta(0)
        excepted = False
        final = None
        for i, (stop, (hours, lag, u_coord, u_off)) in enumerate(zip(tr.stops, draws)):
            t = t + timedelta(hours=hours)
            if missed_sort and i == missed_at:
                t += timedelta(hours=missed_h)
            if stop.kind == "depart_sea" and stop.node:
                piece = self.calendar.congestion(stop.node, t)
                if piece is not None:
                    noticed = _sec(max(events[-1][0] if events else tr.created_at, piece.start) + H)
                    resume = (piece.end if piece.end is not None and piece.end - t < timedelta(days=10)
                              else t + timedelta(days=5)) + timedelta(hours=cong_extra)
                    delay = resume - t
                    shift += delay
                    events.append((noticed, stop.place, "InTransit", "InTransit_001",
                                   f"Vessel departure delayed: port congestion at {cat.NODE_BY_ID[stop.node].name}",
                                   rx.uniform(5, 40), rx.random(), rx.random()))
                    eta_revs.append((noticed, _round_hour(eta0 + shift)))
                    t = resume
            if stop.kind == "transit" and not excepted:
                share = self.calendar.carrier_exception_share(t)
                if share > 0 and exc_u < share:
                    excepted = True
                    cross = stop.place.country != tr.origin.country
                    sub = ("Exception_007" if exc_kind < 0.25 else
                           "Exception_004" if (exc_kind < 0.5 and cross) else "Exception_005")
                    msg = {"Exception_007": "Incorrect address, delivery attempt not possible",
                           "Exception_004": "Held by customs, clearance delayed",
                           "Exception_005": "Delayed due to external factors (weather / network disruption)"}[sub]
                    events.append((t, stop.place, "Exception", sub, msg, rx.uniform(5, 40), rx.random(), rx.random()))
                    delay = timedelta(hours=exc_delay)
                    if sub == "Exception_007" and exc_return < 0.3:
                        events.append((t + delay, stop.place, "Exception", "Exception_010",
                                       "Returning to sender", rx.uniform(5, 40), rx.random(), rx.random()))
                        final = "returned"
                        break
                    events.append((t + delay, stop.place, "InTransit", "InTransit_008",
                                   "Problem resolved, shipment moving again", rx.uniform(5, 40), rx.random(),
                                   rx.random()))
                    shift += delay
                    eta_revs.append((_sec(t + H), _round_hour(eta0 + shift)))
                    t = t + delay
            t = _sec(t)
            events.append((t, stop.place, stop.tag, stop.subtag, stop.message, lag, u_coord, u_off))
        # Build checkpoints; created_at (when AfterShip saw it) strictly increases.
        cps, cp_times = [], []
        last_created = tr.created_at
        pickup = delivered = seen = None
        for when, place, tag, subtag, message, lag, u_coord, u_off in events:
            created = _sec(max(when + timedelta(minutes=lag), last_created + timedelta(seconds=1)))
            last_created = created
            local = when.astimezone(_zone(place.tz))
            offset = local.utcoffset()
            cps.append(Checkpoint(
                local.replace(tzinfo=None, microsecond=0),
                None if u_off < tr.no_offset_share else int(offset.total_seconds() // 60),
                created, place.location, place.city, place.state, place.country,
                None if u_coord < 0.1 else place.lat, None if u_coord < 0.1 else place.lon, message, tag, subtag))
            cp_times.append(created)
            if tag == "InTransit" and pickup is None:
                pickup = when
            if tag == "Delivered":
                delivered, seen = when, created
        tr.checkpoints = tuple(cps)
        tr.cp_times = cp_times
        tr.eta_times = [e[0] for e in eta_revs]
        tr.eta_values = [e[1] for e in eta_revs]
        tr.pickup_at = pickup
        tr.delivered_at = delivered if final != "returned" else None
        tr.delivered_seen = seen if final != "returned" else None
        tr.ends_at = events[-1][0] if events else tr.created_at

    def _replan_moving(self, cut: datetime) -> None:
        """Redo the plans of shipments still moving after a scenario switch at `cut`."""
        still = []
        for tr in self._moving:
            if tr.ends_at is not None and tr.ends_at < cut:
                continue                                  # its whole plan lies before the switch
            old_cps, old_times = tr.checkpoints, tr.cp_times
            old_eta_t, old_eta_v = tr.eta_times, tr.eta_values
            self._plan(tr)
            keep = bisect.bisect_left(old_times, cut)
            new_from = bisect.bisect_left(tr.cp_times, cut)
            tr.checkpoints = old_cps[:keep] + tr.checkpoints[new_from:]
            tr.cp_times = old_times[:keep] + tr.cp_times[new_from:]
            keep_e = bisect.bisect_left(old_eta_t, cut)
            new_e = bisect.bisect_left(tr.eta_times, cut)
            eta_t, eta_v = old_eta_t[:keep_e] + tr.eta_times[new_e:], old_eta_v[:keep_e] + tr.eta_values[new_e:]
            if tr.eta_values and eta_v[-1] != tr.eta_values[-1]:
                eta_t.append(cut)
                eta_v.append(tr.eta_values[-1])
            tr.eta_times, tr.eta_values = eta_t, eta_v
            tr.rev += 1
            tr.memo.clear()
            if tr.order is not None:
                tr.order.memo.clear()
            if not tr.delivered_done and tr.delivered_seen is not None:
                self._push(tr.delivered_seen, "arrive" if tr.direction == "inbound" else "delivered", tr)
            still.append(tr)
        self._moving = still

    # ─── after delivery: stock arrivals, returns, NPS ───────────────────────────────────────────
    def _arrive(self, tr: _Track, when: datetime, warm: bool) -> None:
        tr.delivered_done = True
        po = tr.po
        po.arrived = True
        key = (po.sku, po.warehouse_id)
        self._set_stock(key, self._stock[key] + po.shipped_qty, when, warm)

    def _after_delivery(self, tr: _Track) -> None:
        tr.delivered_done = True
        order = tr.order
        rng = _rng(self.seed, "post", order.order_id)
        late = tr.delivered_at > order.promised
        troubled = any(cp.tag == "Exception" for cp in tr.checkpoints)
        reason = None
        if rng.random() < 0.05 + (0.03 if late else 0) + (0.06 if troubled else 0):
            line = rng.choice(order.lines)
            reasons = list(cat.RETURN_REASONS)
            if late:
                reasons = [(r, w * (4 if r == "late_delivery" else 1)) for r, w in reasons]
            reason = _pick(rng, reasons)
            qty = rng.randint(1, line.quantity)
            created = _sec(tr.delivered_at + timedelta(days=rng.uniform(1, 6)))
            decided = _sec(created + timedelta(hours=rng.uniform(6, 48)))
            approved = rng.random() < 0.94
            refunded = _sec(decided + timedelta(days=rng.uniform(2, 7))) if approved else None
            total = round(line.price * qty, 2)
            rma = "RMA" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
            ret = _Return(rma, order, (ReturnItem(line.sku, qty, reason),), created, decided, approved,
                          refunded, total)
            self._insert(self._returns_keys, self._returns, created, ret)
            if refunded is not None:
                order.refunds.append((refunded, total))
                order.refunds.sort()
                order.memo.clear()
        if rng.random() < 0.25:
            created = _sec(tr.delivered_at + timedelta(days=rng.uniform(1, 4)))
            mean = 8.7 - (2.8 if late else 0) - (2.5 if troubled else 0)
            score = max(0, min(10, round(rng.gauss(mean, 1.4))))
            group = "promoter" if score >= 9 else ("passive" if score >= 7 else "detractor")
            comment = rng.choice(cat.NPS_COMMENTS[group])
            self._nps_seq += 1
            self._insert(self._nps_keys, self._nps, created, NpsResponse(
                487_000_000 + self._nps_seq * 7, order.order_id,
                f"#{order.number}", order.shop, order.market, order.email, score, comment,
                created, created))
        self._csat_answer(tr, late, troubled, reason)

    def _csat_answer(self, tr: _Track, late: bool, troubled: bool, return_reason: str | None) -> None:
        """The CSAT survey sent at delivery ("How satisfied were you with your order?", 1–5). Its own
        RNG stream, so adding it left every other record of the world unchanged."""
        order = tr.order
        rng = _rng(self.seed, "csat", order.order_id)
        if rng.random() >= CSAT_ANSWER_RATE:
            return
        created = _sec(tr.delivered_at + timedelta(hours=rng.uniform(*CSAT_DELAY_H)))
        faulty = return_reason in ("damaged", "wrong_item", "not_as_described")
        mean = 4.5 - (1.6 if late else 0) - (1.2 if troubled else 0) - (1.8 if faulty else 0)
        score = max(1, min(5, round(rng.gauss(mean, 0.8))))
        group = "satisfied" if score >= 4 else ("neutral" if score == 3 else "unsatisfied")
        comment = rng.choice(cat.CSAT_COMMENTS[group])
        self._csat_seq += 1
        self._insert(self._csat_keys, self._csat, created, SurveyResponse(
            612_000_000 + self._csat_seq * 11, order.order_id, f"#{order.number}", order.shop,
            order.market, order.email, score, comment, created, created, "csat"))

    def _insert(self, keys: list, items: list, when: datetime, item) -> None:
        self._seq += 1
        key = (when, self._seq)
        i = bisect.bisect_right(keys, key)
        keys.insert(i, key)
        items.insert(i, item)

    # ─── supply: purchase orders, production, reports ───────────────────────────────────────────
    def _create_po(self, supplier: cat.SupplierSpec, sku: str, wh: str, qty: int, when: datetime) -> None:
        self._po_seq += 1
        number = f"PO-{when.year}-{self._po_seq:04d}"
        rng = _rng(self.seed, "po", number)
        promised_ship = (when + timedelta(days=supplier.lead_time_days)).replace(hour=0, minute=0, second=0,
                                                                                   microsecond=0)
        start_at = when + timedelta(hours=rng.uniform(4, 30) if supplier.tier != "emergency" else rng.uniform(1, 4))
        # Most POs are planned to finish half a day before the promised ship date; some run late.
        span_h = max(4.0, (promised_ship - start_at) / H - 12)
        rate = qty / span_h * rng.uniform(0.85, 1.15)
        po = _Po(number, supplier, sku, wh, qty, self._sku_spec[sku].unit_cost * rng.uniform(0.95, 1.05),
                 when, promised_ship, start_at, rate, rng.uniform(0.97, 0.995))
        self._pos.append(po)
        self._open_pos.append(po)

    def _produce(self, t: datetime, dt: timedelta) -> None:
        down = {s.code for s in cat.SUPPLIERS if self.calendar.supplier_down(s.code, t)}
        for po in self._open_pos:
            if not po.acked or po.complete_at is not None or t < po.start_at:
                continue
            if po.supplier.code in down:
                continue                                  # production halts while the supplier is down
            po.produced = min(po.qty, po.produced + po.rate_per_h * (dt / H))
            if po.produced >= po.qty:
                po.complete_at = t + dt

    def _reports(self, t: datetime, end: datetime) -> None:
        for index, sup in enumerate(cat.SUPPLIERS):
            # report slots: offset + k·every hours (UTC), each a few (seeded) minutes late
            slot = t.replace(minute=0, second=0, microsecond=0)
            while slot < end:
                if (slot.hour - sup.report_offset_h) % sup.report_every_h == 0:
                    mix = (self.seed * 1_000_003 + int(slot.timestamp()) // 3600 * 7919 + index * 104_729)
                    when = slot + timedelta(minutes=(mix * 2_654_435_761 >> 7) % 25)
                    if t <= when < end and not self.calendar.supplier_down(sup.code, when):
                        self._report(sup, when)
                slot += H

    def _report(self, sup: cat.SupplierSpec, when: datetime) -> None:
        """The supplier posts the state of every open PO (this is when the portal changes)."""
        still_open = []
        for po in self._open_pos:
            if po.supplier is not sup:
                still_open.append(po)
                continue
            if po.ordered_at > when:
                still_open.append(po)
                continue
            po.acked = True
            produced = int(po.produced)
            prev_produced = po.v_states[-1][0] if po.v_states else 0
            if po.track is None and po.complete_at is not None and when >= po.complete_at + timedelta(hours=QC_HOURS):
                po.shipped_qty = int(po.qty * po.yield_)
                self._ship(po, when)
            if po.arrived:
                status, po.closed = "closed", True
            elif po.track is not None:
                status = "shipped"
            else:
                status = "in_production" if produced > 0 else "open"
            qc = po.shipped_qty if po.track is not None else int(prev_produced * po.yield_)
            po.v_times.append(when)
            po.v_states.append((produced, qc, po.shipped_qty, status))
            if not po.closed:
                still_open.append(po)
        self._open_pos = still_open

    def _ship(self, po: _Po, when: datetime) -> None:
        mode, freight_key, stops = self._routes[(po.supplier.code, po.warehouse_id)]
        rng = _rng(self.seed, "inb", po.number)
        slug = _pick(rng, cat.FREIGHT[freight_key])
        track = _Track(
            id=f"{rng.getrandbits(128):032x}", number=_tracking_number(rng, slug), slug=slug,
            company=FREIGHT_NAMES[slug], mode=mode, direction="inbound", warehouse_id=po.warehouse_id,
            origin=po.supplier.place, dest=_place_of_warehouse(po.warehouse_id), created_at=when, stops=stops,
            po=po, no_offset_share=0.3 if mode == "sea" else 0.1, eta_noise_h=24.0 if mode == "sea" else 8.0)
        po.track = track
        self._add_track(track)

    def _replenish(self, t: datetime, rng: random.Random) -> None:
        """Reorder-point review: when stock + pipeline falls below what the lead time needs, order
        ORDER_DAYS of demand (more if far below), split over the tiers serving that warehouse."""
        pipeline: dict[tuple[str, str], int] = {}
        for po in self._open_pos:
            if not po.arrived:
                key = (po.sku, po.warehouse_id)
                pipeline[key] = pipeline.get(key, 0) + (po.shipped_qty if po.track is not None else po.qty)
        for key in self._keys:
            sku, wh = key
            d = self._daily[key]
            if d <= 0:
                continue
            position = self._stock[key] + pipeline.get(key, 0)
            reorder_point = d * (self._lead[wh] + REVIEW_DAYS) + self._policies[key][0]
            if position >= reorder_point:
                continue
            qty = max(d * ORDER_DAYS, reorder_point + d * ORDER_DAYS - position)
            parts = [(sup, share * qty) for sup, share in self._tiers[wh]]
            small = sum(q for _, q in parts if q < 20)
            parts = [(sup, q) for sup, q in parts if q >= 20]
            if not parts:
                parts = [(self._tiers[wh][0][0], small)]
            else:
                parts[0] = (parts[0][0], parts[0][1] + small)
            for sup, q in parts:
                self._create_po(sup, sku, wh, int(math.ceil(q / 10) * 10), t + timedelta(minutes=rng.randrange(60)))

    # ─── views ("as of now") ────────────────────────────────────────────────────────────────────
    def inventory_levels(self, now: datetime) -> list[InventoryLevel]:
        with self._lock:
            c, hit = self._view("inv", now)
            if hit is not None:
                return hit
            out = []
            for sku, wh in self._keys:
                times, values = self._inv_times[(sku, wh)], self._inv_values[(sku, wh)]
                i = bisect.bisect_left(times, c) - 1
                i = max(i, 0)
                out.append(InventoryLevel(self._sku[sku].inventory_item_id, self._location[wh], sku, values[i],
                                          times[i]))
            return self._remember("inv", c, None, out)

    def orders(self, now: datetime, shop: str | None = None) -> list[Order]:
        with self._lock:
            c, hit = self._view("orders", now, shop)
            if hit is not None:
                return hit
            shops = [shop] if shop else [m.shop for m in cat.MERCHANTS]
            out = []
            for s in shops:
                if s not in self._orders_by_shop:
                    continue
                times, orders = self._orders_by_shop[s]
                out.extend(self._order_view(o, c) for o in orders[:bisect.bisect_left(times, c)])
            if not shop:
                out.sort(key=lambda o: (o.created_at, o.order_id))
            return self._remember("orders", c, shop, out)

    def _order_view(self, o: _Order, c: datetime) -> Order:
        last = o.memo.get("last")                      # (valid from, valid until, view): the common case
        if last is not None and last[0] < c <= last[1]:
            return last[2]
        tr = o.track
        shipped = tr is not None and tr.created_at < c
        k = bisect.bisect_left(tr.cp_times, c) if shipped else 0
        r = bisect.bisect_left(o.refunds, (c,))
        key = (shipped, k, r)
        hit = o.memo.get(key)
        if hit is None:
            hit = o.memo[key] = self._render_order(o, c, shipped, k, r)
        # the view holds for cuts in (last change, next change]
        nxt = [o.refunds[r][0]] if r < len(o.refunds) else []
        if tr is not None:
            nxt.append(tr.created_at if not shipped else (tr.cp_times[k] if k < len(tr.cp_times) else _FAR))
        o.memo["last"] = (hit.updated_at, min(nxt, default=_FAR), hit)
        return hit

    def _render_order(self, o: _Order, c: datetime, shipped: bool, k: int, r: int) -> Order:
        tr = o.track
        updated = o.created_at
        fulfillments = ()
        if shipped:
            status = SHIPMENT_STATUS.get(tr.checkpoints[k - 1].tag) if k else None
            if k and tr.checkpoints[k - 1].subtag == "Exception_010":
                status = "failure"
            f_updated = tr.cp_times[k - 1] if k else tr.created_at
            fulfillments = (Fulfillment(o.fulfillment_id, o.location_id, tr.number, tr.company, tr.created_at,
                                        status, f_updated),)
            updated = max(updated, f_updated)
        refunded = sum(a for _, a in o.refunds[:r])
        if r:
            updated = max(updated, o.refunds[r - 1][0])
        total = round(o.subtotal + o.shipping_price, 2)
        financial = "paid" if not r else ("refunded" if refunded >= o.subtotal - 0.005 else "partially_refunded")
        view = Order(o.order_id, o.shop, o.number, f"#{o.number}", o.created_at, updated, o.currency, o.channel,
                     o.market, o.city.place.city, o.email, o.lines, o.subtotal, o.shipping_price, o.shipping_cost,
                     total, o.promised, o.location_id, financial, "fulfilled" if shipped else None, None,
                     fulfillments)
        return view

    def trackings(self, now: datetime) -> list[Tracking]:
        with self._lock:
            c, hit = self._view("trackings", now)
            if hit is not None:
                return hit
            n = bisect.bisect_left(self._track_keys, (c,))
            out = [self._tracking_view(tr, c) for tr in self._tracks[:n]]
            return self._remember("trackings", c, None, out)

    def _tracking_view(self, tr: _Track, c: datetime) -> Tracking:
        last = tr.memo.get("last")
        if last is not None and last[0] < c <= last[1]:
            return last[2]
        k = bisect.bisect_left(tr.cp_times, c)
        e = bisect.bisect_left(tr.eta_times, c)
        key = (k, e)
        hit = tr.memo.get(key)
        if hit is None:
            hit = tr.memo[key] = self._render_tracking(tr, c, k, e)
        nxt = min(tr.cp_times[k] if k < len(tr.cp_times) else _FAR, tr.eta_times[e] if e < len(tr.eta_times) else _FAR)
        tr.memo["last"] = (hit.updated_at, nxt, hit)
        return hit

    def _render_tracking(self, tr: _Track, c: datetime, k: int, e: int) -> Tracking:
        cps = tr.checkpoints[:k]
        if cps:
            tag, subtag = cps[-1].tag, cps[-1].subtag
        else:
            tag, subtag = "Pending", "Pending_001"
        updated = max(tr.created_at, tr.cp_times[k - 1] if k else tr.created_at,
                      tr.eta_times[e - 1] if e else tr.created_at)
        delivered = tr.delivered_at if tag == "Delivered" else None
        pickup = tr.pickup_at if any(cp.tag != "InfoReceived" for cp in cps) else None
        order, po = tr.order, tr.po
        view = Tracking(
            tr.id, tr.number, tr.slug, tr.mode, tr.direction,
            order.order_id if order else None, f"#{order.number}" if order else None, order.shop if order else None,
            po.number if po else None, tr.warehouse_id, tr.origin.country, tr.origin.city, tr.dest.country,
            tr.dest.city, tr.dest.lat, tr.dest.lon, tr.origin.lat, tr.origin.lon, tr.created_at.replace(microsecond=0),
            updated.replace(microsecond=0), tag, subtag, SUBTAG_MESSAGES.get(subtag, tag),
            tr.eta_values[e - 1] if e else None, tr.promised, pickup, delivered, cps)
        return view

    def purchase_orders(self, now: datetime) -> list[PurchaseOrder]:
        with self._lock:
            c, hit = self._view("pos", now)
            if hit is not None:
                return hit
            out = []
            for po in self._pos:
                i = bisect.bisect_left(po.v_times, c) - 1
                if i < 0:
                    continue                               # not yet acknowledged in the supplier's portal
                view = po.memo.get(i)
                if view is None:
                    produced, qc, shipped, status = po.v_states[i]
                    view = PurchaseOrder(po.number, po.supplier.code, po.sku, po.warehouse_id, po.qty,
                                         round(po.unit_cost, 2), po.ordered_at.replace(microsecond=0),
                                         po.promised_ship, produced, qc, shipped, status,
                                         po.v_times[i].replace(microsecond=0))
                    po.memo[i] = view
                out.append(view)
            return self._remember("pos", c, None, out)

    def returns(self, now: datetime) -> list[Return]:
        with self._lock:
            c, hit = self._view("returns", now)
            if hit is not None:
                return hit
            n = bisect.bisect_left(self._returns_keys, (c,))
            out = [self._return_view(r, c) for r in self._returns[:n]]
            return self._remember("returns", c, None, out)

    def _return_view(self, r: _Return, c: datetime) -> Return:
        decided = r.decided_at < c
        done = r.refunded_at is not None and r.refunded_at < c
        key = (decided, done)
        hit = r.memo.get(key)
        if hit is not None:
            return hit
        if done:
            status, updated = "done", r.refunded_at
        elif decided:
            status, updated = ("approved" if r.approved else "rejected"), r.decided_at
        else:
            status, updated = "submitted", r.created_at
        o = r.order
        view = Return(r.rma, o.order_id, f"#{o.number}", o.shop, o.market, r.items, r.created_at.replace(microsecond=0),
                      updated.replace(microsecond=0), status, r.refunded_at.replace(microsecond=0) if done else None,
                      r.total, o.currency)
        r.memo[key] = view
        return view

    def nps_responses(self, now: datetime) -> list[NpsResponse]:
        with self._lock:
            c, _ = self._view("nps", now)
            return self._nps[:bisect.bisect_left(self._nps_keys, (c,))]

    def csat_responses(self, now: datetime) -> list[SurveyResponse]:
        with self._lock:
            c, _ = self._view("csat", now)
            return self._csat[:bisect.bisect_left(self._csat_keys, (c,))]

    def forecasts(self, now: datetime, start: datetime | None = None, end: datetime | None = None) -> list[Forecast]:
        """Hourly plan per sku×market: by default from `now - history` to `now + 2 days`; `start`/`end`
        pick another range (never before the world's start nor past `now + 2 days`: plans are published
        two days ahead)."""
        with self._lock:
            c = self._cut(now)
            lo = max(self.start, _floor_hour(c - timedelta(days=self.history_days)))
            hi = _floor_hour(c) + timedelta(days=2)
            if start is not None:
                lo = max(self.start, _floor_hour(utc(start)))
            if end is not None:
                hi = min(hi, utc(end))
            out = []
            hour = _floor_hour(lo)
            while hour < hi:
                out.extend(self._forecast_hour(hour))
                hour += H
            return out

    def _forecast_hour(self, hour: datetime) -> list[Forecast]:
        hit = self._forecast_hours.get(hour)
        if hit is not None:
            return hit
        # Plans are published daily, two days ahead; a scenario switch republishes the hours after it.
        published = max(self.start, hour.replace(hour=0) - timedelta(days=2))
        for cut in self._switches:
            if hour >= cut:
                published = max(published, cut)
        weight_total = sum(s.weight for s in cat.SKUS)
        rows = []
        for market in cat.MARKETS:
            units = self._hour_rate(market, hour) * EXPECTED_UNITS_PER_ORDER
            for s in cat.SKUS:
                rows.append(Forecast(s.sku, market, hour, round(units * s.weight / weight_total, 4), published))
        if len(self._forecast_hours) > 20_000:
            self._forecast_hours.clear()
        self._forecast_hours[hour] = rows
        return rows

    def stock_policies(self, now: datetime) -> list[StockPolicy]:
        return [StockPolicy(sku, wh, safety, warning, limit, self.start)
                for (sku, wh), (safety, warning, limit) in self._policies.items()]

    def nodes(self, now: datetime) -> list[Node]:
        with self._lock:
            c = self._cut(now)
            out = []
            for n in cat.NODES:
                status, updated = "normal", self.start
                for when, new in self.calendar.congestion_changes(n.node_id):
                    if when < c:
                        status, updated = new, max(when, self.start)
                out.append(Node(n.node_id, n.name, n.kind, n.place.country, n.place.lat, n.place.lon, status,
                                updated))
            return out

    def events(self, now: datetime) -> list[PromotionEvent]:
        with self._lock:
            c = self._cut(now)
            return [e for e in self.calendar.events(c) if e.updated_at <= c]

    def lost_sales(self, now: datetime) -> list[tuple[datetime, str, str, int]]:
        """Demand nobody could serve (time, sku, market, units): what a stockout cost."""
        with self._lock:
            c, _ = self._view("lost", now)
            return [x for x in self._lost if x[0] < c]

    # ─── control ────────────────────────────────────────────────────────────────────────────────
    def set_scenarios(self, windows: list[ScenarioWindow]) -> None:
        """Switch scenarios from now on: simulated time before now stays exactly as it was."""
        with self._lock:
            cut = max(utc(self.clock.now()), self._t)
            self.calendar = self.calendar.switched(list(windows), cut)
            self._switches.append(cut)
            self._forecast_hours = {h: rows for h, rows in self._forecast_hours.items() if h < cut}
            self._cache.clear()
            self._replan_moving(cut)


# ─── small helpers ──────────────────────────────────────────────────────────────────────────────
def _origin(wh_id: str) -> str:
    return "CN" if wh_id == "CN-SZ-DC" else ("EU" if wh_id == "EU-3PL-DE" else "US")


def _cumulative(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def _index(u: float, weights: list[float]) -> int:
    """Index picked by a uniform draw `u` over weights."""
    total, acc = sum(weights), 0.0
    for i, w in enumerate(weights):
        acc += w / total
        if u < acc:
            return i
    return len(weights) - 1


@lru_cache(maxsize=8192)
def _local_hour(zone: str, hour_start: datetime) -> int:
    return hour_start.astimezone(_zone(zone)).hour


def _sec(t: datetime) -> datetime:
    return t.replace(microsecond=0)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _end_of_day(t: datetime) -> datetime:
    return t.replace(hour=23, minute=59, second=59, microsecond=0)


def _round_hour(t: datetime) -> datetime:
    return _floor_hour(t + timedelta(minutes=30))
