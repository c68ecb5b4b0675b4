"""Storefront writes into the sandbox (issue 13, plan B-03) and how the world reacts to them.

- A product metafield `custom.promised_ship_time` ("5-7 days") is the promise the shop shows for
  that product from the instant it is set: new orders holding the product carry a promised date at
  least that far out, and a small share of buyers (CONVERSION_DROP) leave the product out of the cart
  while the longer promise shows (recorded in `unconverted`, not as lost sales).
- BACKORDERS: while a product's promise is extended (longer than DEFAULT_PROMISE) and a
  quick-response PO for it is open, a line that finds no stock is taken as a backorder against that
  PO (its own order, promised at the longer date, shipped from the PO's warehouse when the goods
  arrive) instead of being a lost sale. Without the longer promise the sale is lost as before.
- `custom.promotion_cap` (units per order, 0 = no cap) caps what one order takes of the product while
  a promotion runs.
- A discount code given to chosen buyers lifts their NPS/CSAT answers (COUPON_LIFT, on the answer's
  own RNG stream); a buyer told about a delay before the promised date weighs the delay less.

Changes land at the action's instant, never before what is already simulated, so a world nobody
writes to is exactly the world it was, and the same writes at the same instants give the same world."""
from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.sim import PROCESSING_H, _end_of_day, _Po, _rng, _sec, _Track
from tower.clock import utc

PROMISE_KEY = ("custom", "promised_ship_time")
CAP_KEY = ("custom", "promotion_cap")
DEFAULT_PROMISE = (2, 3)           # the storefront's usual "2-3 days"
CONVERSION_DROP = 0.08             # share of buyers who skip a product while its longer promise shows
COUPON_LIFT = {"nps": 1.5, "csat": 0.6}   # mean score points a buyer with a coupon adds
TOLD_IN_TIME_WEIGHT = 0.4          # share of the lateness penalty a buyer told in time still applies
QUICK_RESPONSE_DAYS = 1.0          # the backup's reserved capacity turns a PO around in a day
_PROMISE = re.compile(r"^\s*(\d{1,2})\s*(?:[-–]\s*(\d{1,2})\s*)?(?:business\s+)?days?\s*$", re.IGNORECASE)


class StorefrontError(ValueError):
    """A write the shop refuses: `code` is Shopify's user-error code, `field` the input path."""

    def __init__(self, message: str, code: str = "INVALID", field: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.field = field or []


def parse_promise(value: str) -> tuple[int, int]:
    """'5-7 days' -> (5, 7); '7 days' -> (7, 7). Raises StorefrontError."""
    m = _PROMISE.match(value or "")
    if not m:
        raise StorefrontError(f"Value {value!r} is not a promise like '5-7 days'.", "INVALID_VALUE", ["value"])
    lo = int(m[1])
    hi = int(m[2]) if m[2] else lo
    if not 0 < lo <= hi <= 60:
        raise StorefrontError(f"Value {value!r} must be between 1 and 60 days, low to high.", "INVALID_VALUE",
                              ["value"])
    return lo, hi


def customer_id(email: str) -> int:
    """The shop's customer id of a buyer (stable: derived from the email)."""
    return 7_100_000_000_000 + int(hashlib.sha1(email.strip().lower().encode()).hexdigest()[:10], 16) % 10**12


@dataclass
class Metafield:
    ident: int
    shop: str
    sku: str
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Discount:
    ident: int
    shop: str
    code: str
    title: str
    percent: float
    emails: frozenset[str] | None          # None: every buyer
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None = None

    def status(self, at: datetime) -> str:
        if self.deactivated_at is not None and self.deactivated_at <= at:
            return "EXPIRED"
        if self.ends_at is not None and self.ends_at <= at:
            return "EXPIRED"
        return "SCHEDULED" if self.starts_at > at else "ACTIVE"


@dataclass
class BuyerMessage:
    message_id: str
    to: str
    locale: str
    subject: str
    body: str
    reference: str
    sent_at: datetime


@dataclass
class _Backorder:
    po: _Po
    held: list = field(default_factory=list)        # (order, stops, u) waiting for the goods
    allocated: int = 0


class Storefront:
    """Mixin of World (sandbox/world.py), placed before Demand so its hooks replace the plain ones.
    It uses the state World.__init__ sets up."""

    def _init_storefront(self) -> None:
        self._metafields: dict[tuple[str, str, str, str], Metafield] = {}
        self._mf_history: dict[tuple[str, str, str, str], tuple[list, list]] = {}   # times, values
        self._mf_seq = 0
        self._discounts: dict[int, Discount] = {}
        self._discount_seq = 0
        self._messages: dict[str, BuyerMessage] = {}
        self._messages_by_email: dict[str, list[BuyerMessage]] = {}
        self._quick: dict[str, _Backorder] = {}       # po number -> its backorders
        self._unconverted: list[tuple[datetime, str, str, int]] = []
        self._backordered: list[tuple[datetime, str, str, int, str]] = []   # (time, sku, market, units, po)

    def _write_time(self, when: datetime) -> datetime:
        """Simulate up to `when`; a write lands at `when`, never before what is already simulated."""
        when = utc(when)
        self._advance(self._cut(when))
        return max(when, self._t)

    # --- metafields ---------------------------------------------------------------------------------
    def set_metafield(self, shop: str, sku: str, namespace: str, key: str, type_: str, value: str | None,
                      when: datetime) -> tuple[Metafield | None, bool]:
        """Set (value None: delete) a product metafield; (the metafield, whether anything changed).
        Setting the value it already has is a no-op."""
        with self._lock:
            if sku not in self._sku_spec:
                raise StorefrontError(f"Owner does not exist: no product with SKU {sku!r}.", "INVALID", ["ownerId"])
            if value is not None:
                value = self.check_metafield(namespace, key, value)
            k = (shop, sku, namespace, key)
            current = self._metafields.get(k)
            if (current.value if current else None) == value:
                return current, False
            t = self._write_time(when)
            times, values = self._mf_history.setdefault(k, ([], []))
            times.append(t)
            values.append(value)
            if value is None:
                self._metafields.pop(k, None)
                return None, True
            if current is None:
                self._mf_seq += 1
                current = Metafield(29_000_000_000_000 + self._mf_seq * 17, shop, sku, namespace, key, type_, value,
                                    t, t)
                self._metafields[k] = current
            else:
                current.value, current.type, current.updated_at = value, type_, t
            return current, True

    @staticmethod
    def check_metafield(namespace: str, key: str, value: str) -> str | None:
        """The value to store (None: remove), or StorefrontError for a value the definition refuses."""
        if (namespace, key) == PROMISE_KEY:
            parse_promise(value)
        if (namespace, key) == CAP_KEY:
            if not re.fullmatch(r"\d{1,4}", (value or "").strip()):
                raise StorefrontError(f"Value {value!r} must be a whole number of units from 0 to 9999.",
                                      "INVALID_VALUE", ["value"])
            return None if int(value) == 0 else str(int(value))    # 0 removes the cap
        return value

    def metafield(self, shop: str, sku: str, namespace: str, key: str) -> Metafield | None:
        with self._lock:
            return self._metafields.get((shop, sku, namespace, key))

    def _metafield_at(self, shop: str, sku: str, key: tuple[str, str], at: datetime) -> str | None:
        hist = self._mf_history.get((shop, sku, *key))
        if not hist:
            return None
        i = bisect.bisect_right(hist[0], at) - 1
        return hist[1][i] if i >= 0 else None

    def _promise_days(self, shop: str, sku: str, at: datetime) -> tuple[int, int] | None:
        value = self._metafield_at(shop, sku, PROMISE_KEY, at)
        return parse_promise(value) if value else None

    def _extended(self, shop: str, sku: str, at: datetime) -> tuple[int, int] | None:
        days = self._promise_days(shop, sku, at)
        return days if days and days[1] > DEFAULT_PROMISE[1] else None

    # --- the demand hooks ---------------------------------------------------------------------------
    def _wanted(self, when: datetime, d: dict) -> dict[str, int]:
        wanted = d["wanted"]
        if not self._mf_history:
            return wanted
        promo = self.calendar.planned_uplift(when) > 1.0
        out = {}
        for sku, qty in wanted.items():
            if self._extended(d["shop"], sku, when):
                rng = _rng(self.seed, "conv", d["shop"], sku, int(when.timestamp() * 1000), d["u"][0])
                if rng.random() < CONVERSION_DROP:
                    self._unconverted.append((when, sku, d["market"], qty))
                    continue
            cap = self._metafield_at(d["shop"], sku, CAP_KEY, when) if promo else None
            out[sku] = min(qty, int(cap)) if cap else qty
        return out

    def _unserved(self, when: datetime, d: dict, sku: str, qty: int) -> None:
        self._adopt_api_quick_pos()
        days = self._extended(d["shop"], sku, when) if self._quick else None
        backorder = self._backorder_for(sku, d["city"].region, qty) if days else None
        if backorder is None:
            self._lost.append((when, sku, d["market"], qty))
            return
        backorder.allocated += qty
        self._backordered.append((when, sku, d["market"], qty, backorder.po.number))
        self._create_order(when, d, backorder.po.warehouse_id, {sku: qty}, hold=backorder.held)

    def _adopt_api_quick_pos(self) -> None:
        """Quick-response POs raised through the supplier portal (the supply side's World.place_po,
        `_api_pos`) take backorders too, as soon as they exist."""
        api = getattr(self, "_api_pos", None)
        if not api or len(api) == getattr(self, "_api_pos_seen", 0):
            return
        self._api_pos_seen = len(api)
        for number, entry in api.items():
            if getattr(entry, "quick", False) and number not in self._quick:
                self._quick[number] = _Backorder(entry.po)

    def _backorder_for(self, sku: str, region: str, qty: int) -> _Backorder | None:
        """An open quick-response PO for `sku` into a warehouse serving `region` with units left."""
        for wh in cat.FULFILMENT[region]:
            for b in self._quick.values():
                po = b.po
                if (po.sku == sku and po.warehouse_id == wh and not po.arrived
                        and po.number not in getattr(self, "_po_cancelled", {})
                        and b.allocated + qty <= int(po.qty * po.yield_)):
                    return b
        return None

    def _promise_for(self, when: datetime, shop: str, skus, promised: datetime) -> datetime:
        if not self._mf_history:
            return promised
        longest = max((days[1] for s in skus if (days := self._promise_days(shop, s, when))), default=0)
        return max(promised, _end_of_day(when + timedelta(days=longest))) if longest else promised

    def _arrive(self, obj, when: datetime, warm: bool) -> None:
        super()._arrive(obj, when, warm)
        po = getattr(obj, "po", None) if isinstance(obj, _Track) else None
        backorder = self._quick.get(po.number) if po is not None else None
        if backorder is None or not backorder.held:
            return
        key = (po.sku, po.warehouse_id)
        for order, stops, u in backorder.held:          # the goods arrived: the held parcels go out
            qty = sum(line.quantity for line in order.lines)
            self._set_stock(key, max(0, int(self._stock[key]) - qty), when, warm)
            ship_at = _sec(when + timedelta(hours=PROCESSING_H[0] + PROCESSING_H[1] * u[3]))
            self._outbound(order, ship_at, stops, u)
        backorder.held = []

    # --- quick-response POs (the supply side's World.place_po when it is there) ---------------------
    def place_quick_po(self, supplier_code: str, sku: str, warehouse_id: str, quantity: int,
                       when: datetime) -> str:
        """Raise a quick-response PO and let the storefront take backorders against it; its number."""
        with self._lock:
            place_po = getattr(self, "place_po", None)
            if place_po is not None:
                number = place_po(supplier_code, sku, warehouse_id, quantity, when, quick_response=True)
            else:                                          # adapter until World.place_po is merged
                number = self._adapter_quick_po(supplier_code, sku, warehouse_id, quantity, when)
            self.track_backorders(number)
            return number

    def track_backorders(self, po_number: str) -> None:
        """Let the storefront take backorders against this (quick-response) PO."""
        with self._lock:
            po = next((p for p in self._pos if p.number == po_number), None)
            if po is None and po_number in getattr(self, "_api_pos", {}):
                po = self._api_pos[po_number].po
            if po is None:
                raise StorefrontError(f"no purchase order {po_number}", "INVALID", ["po_number"])
            self._quick.setdefault(po_number, _Backorder(po))

    def _adapter_quick_po(self, supplier_code: str, sku: str, warehouse_id: str, quantity: int,
                          when: datetime) -> str:
        sup = cat.SUPPLIER_BY_CODE[supplier_code]
        t = self._write_time(when)
        self._create_po(sup, sku, warehouse_id, int(quantity), t)
        po = self._pos[-1]
        po.promised_ship = t + timedelta(days=QUICK_RESPONSE_DAYS)
        po.start_at = t + timedelta(hours=1)
        po.rate_per_h = po.qty / max(4.0, QUICK_RESPONSE_DAYS * 24 - 10)
        return po.number

    # --- discounts ----------------------------------------------------------------------------------
    def create_discount(self, shop: str, code: str, title: str, percent: float, emails: list[str] | None,
                        starts_at: datetime | None, ends_at: datetime | None, when: datetime) -> Discount:
        with self._lock:
            code = (code or "").strip()
            if not code:
                raise StorefrontError("Code can't be blank", "BLANK", ["basicCodeDiscount", "code"])
            if any(d.shop == shop and d.code.lower() == code.lower() for d in self._discounts.values()):
                raise StorefrontError("Code must be unique. Please try a different code.", "TAKEN",
                                      ["basicCodeDiscount", "code"])
            if not 0 < percent <= 1:
                raise StorefrontError("Value must be between 0 and 1 (a percentage as a fraction).",
                                      "VALUE_OUTSIDE_RANGE", ["basicCodeDiscount", "customerGets", "value",
                                                              "percentage"])
            t = self._write_time(when)
            starts = utc(starts_at) if starts_at else t
            if ends_at is not None and utc(ends_at) <= starts:
                raise StorefrontError("Ends at needs to be after starts_at", "INVALID",
                                      ["basicCodeDiscount", "endsAt"])
            self._discount_seq += 1
            d = Discount(1_180_000_000 + self._discount_seq * 13, shop, code, title or code, float(percent),
                         frozenset(e.strip().lower() for e in emails) if emails is not None else None,
                         starts, utc(ends_at) if ends_at else None, t, t)
            self._discounts[d.ident] = d
            return d

    def discount_by_code(self, shop: str, code: str) -> Discount | None:
        with self._lock:
            return next((d for d in self._discounts.values()
                         if d.shop == shop and d.code.lower() == (code or "").strip().lower()), None)

    def discount(self, shop: str, ident: int) -> Discount | None:
        with self._lock:
            d = self._discounts.get(ident)
            return d if d is not None and d.shop == shop else None

    def deactivate_discount(self, shop: str, ident: int, when: datetime) -> Discount:
        with self._lock:
            d = self.discount(shop, ident)
            if d is None:
                raise StorefrontError("Discount does not exist", "INVALID", ["id"])
            if d.deactivated_at is None:                   # deactivating twice changes nothing
                d.deactivated_at = d.updated_at = self._write_time(when)
            return d

    def _goodwill(self, order, tr: _Track, survey: str) -> float:
        if not self._discounts:
            return 0.0
        email = order.email.lower()
        for d in self._discounts.values():
            if (d.shop == order.shop and d.emails is not None and email in d.emails
                    and d.created_at <= tr.delivered_at and d.status(d.created_at) != "EXPIRED"):
                return COUPON_LIFT[survey]
        return 0.0

    # --- buyer messages -----------------------------------------------------------------------------
    def send_buyer_message(self, to: str, locale: str, subject: str, body: str, reference: str,
                           when: datetime) -> BuyerMessage:
        with self._lock:
            t = self._write_time(when)
            n = len(self._messages) + 1
            msg = BuyerMessage(f"msg_{n:06d}{_rng(self.seed, 'msg', n).getrandbits(32):08x}", to.strip().lower(),
                               locale, subject, body, reference, t)
            self._messages[msg.message_id] = msg
            self._messages_by_email.setdefault(msg.to, []).append(msg)
            return msg

    def buyer_messages(self, now: datetime) -> list[BuyerMessage]:
        with self._lock:
            c = self._cut(now)
            return [m for m in self._messages.values() if m.sent_at <= c]

    def _late_weight(self, order, tr: _Track) -> float:
        told = self._messages_by_email.get(order.email.lower()) if self._messages_by_email else None
        if told and any(m.sent_at < order.promised and m.reference in ("", order_name(order), str(order.order_id))
                        for m in told):
            return TOLD_IN_TIME_WEIGHT
        return 1.0

    # --- what the writes did (for tests, the retro and the demo) ------------------------------------
    def unconverted(self, now: datetime) -> list[tuple[datetime, str, str, int]]:
        """Lines buyers left out while a longer promise showed (time, sku, market, units)."""
        with self._lock:
            c, _ = self._view("unconverted", now)
            return [x for x in self._unconverted if x[0] < c]

    def backordered(self, now: datetime) -> list[tuple[datetime, str, str, int, str]]:
        """Lines taken as backorders (time, sku, market, units, po number)."""
        with self._lock:
            c, _ = self._view("backordered", now)
            return [x for x in self._backordered if x[0] < c]


def order_name(order) -> str:
    return f"#{order.number}"
