"""Shared pieces of the world simulation (sandbox/world.py): the time grid, seeded RNG streams and
small helpers, and the mutable entities (orders, trackings, POs, returns) the steps evolve."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from sandbox import catalog as cat
from sandbox.catalog import Place
from sandbox.model import Checkpoint, OrderLine, ReturnItem


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
UNITS_PER_ORDER_LINES = ((1, 0.6), (2, 0.3), (3, 0.1))
QTY_PER_LINE = ((1, 0.7), (2, 0.2), (3, 0.1))
EXPECTED_UNITS_PER_ORDER = sum(n * p for n, p in UNITS_PER_ORDER_LINES) * sum(q * p for q, p in QTY_PER_LINE)


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
