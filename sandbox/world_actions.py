"""Writes the outside world makes into the sandbox (issue 13): purchase orders raised through the
supplier portal, forwarder bookings and warehouse transfers, and how the world reacts to them.

- A PO raised here is a real `_Po`: the supplier acknowledges it at its next progress report (so the
  portal lists it and Tower's connector ingests it), produces it over its lead time, ships it, and the
  goods arrive into stock. It consumes the supplier's capacity: the backup keeps a reserved share for
  quick-response orders (short lead time), regular orders share the rest with the world's own POs.
- A booking attached to a PO replaces the PO's default route: the PO ships by the booked mode and
  route when it is ready (an inbound tracking like any other). A booking without a PO carries cargo
  that is ready at the supplier.
- A transfer (sandbox/world_transfers.py) takes stock out of one warehouse now and puts it into the
  other when its shipment is delivered.

Changes land as queued happenings at the action's instant (never before the simulated time), so the
"as of now" views stay consistent and a world nobody writes to is exactly the world it was. The
vendor's idempotency-key memory lives here too, next to what the keys created."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sandbox import catalog as cat
from sandbox.actions_common import ActionError, Deferred, ceil_hour, check_quantity
from sandbox.freight import booking_cost, booking_route, mean_hours
from sandbox.routes import FREIGHT_NAMES, _place_of_warehouse, _tracking_number
from sandbox.sim import QC_HOURS, H, Stop, _pick, _Po, _rng, _Track
from sandbox.world_actions_views import ActionViews
from sandbox.world_transfers import Transfers
from tower.clock import utc

# supplier -> (share of its daily capacity reserved for quick-response orders, their lead time in days)
QUICK_RESPONSE = {"CN-ANJI-02": (0.30, 1.0)}


@dataclass
class _ApiPo:
    po: _Po
    quick: bool
    need_by: date | None
    reference: str


@dataclass
class _Booking:
    booking_id: str
    mode: str
    freight_key: str
    stops: tuple[Stop, ...]
    supplier: cat.SupplierSpec
    warehouse_id: str
    sku: str
    quantity: int
    po: _Po | None                 # the PO it carries (None: cargo ready at the supplier)
    cost: float
    created_at: datetime
    etd: datetime                  # planned when booked; the shipment's own times take over
    eta: datetime
    reference: str
    track: _Track | None = None
    cancelled_at: datetime | None = None


class Actions(Transfers, ActionViews):
    """Mixin of World (sandbox/world.py), placed first so its `_ship`/`_arrive` see bookings and
    queued changes before Supply's. It uses the state World.__init__ sets up."""

    def _init_actions(self) -> None:
        self._api_pos: dict[str, _ApiPo] = {}
        self._po_cancelled: dict[str, datetime] = {}
        self._bookings: dict[str, _Booking] = {}
        self._booking_by_po: dict[str, _Booking] = {}
        self._init_transfers()
        self._idempotent: dict[tuple[str, str], tuple[str, dict]] = {}

    # --- the vendor's idempotency-key memory ------------------------------------------------------
    def once(self, scope: str, key: str, fingerprint: str, make: Callable[[], dict]) -> tuple[dict, bool]:
        """(payload, replayed): `make()` runs once per key; the same key again with the same request
        replays its payload, with another request it is refused (never a second PO)."""
        with self._lock:
            hit = self._idempotent.get((scope, key))
            if hit is not None:
                if hit[0] != fingerprint:
                    raise ActionError(422, "this key was already used with a different request",
                                      field="Idempotency-Key")
                return hit[1], True
            payload = make()
            self._idempotent[(scope, key)] = (fingerprint, payload)
            return payload, False

    def _act_time(self, when: datetime) -> datetime:
        """Simulate up to `when`; a change lands at `when`, never before what is already simulated."""
        when = utc(when)
        self._advance(self._cut(when))
        return max(when, self._t)

    def _defer(self, when: datetime, apply: Callable[[datetime, bool], None]) -> None:
        self._push(when, "arrive", Deferred(apply))

    def _arrive(self, obj, when: datetime, warm: bool) -> None:
        if isinstance(obj, Deferred):
            obj.apply(when, warm)
        elif isinstance(obj, _Track) and obj.id in self._transfer_tracks:
            obj.delivered_done = True
            self._transfer_in(self._transfer_tracks[obj.id], when, warm)
        else:
            super()._arrive(obj, when, warm)

    # --- purchase orders --------------------------------------------------------------------------
    def place_po(self, supplier_code: str, sku: str, warehouse_id: str, quantity: int, when: datetime,
                 quick_response: bool = False, *, need_by: date | None = None, reference: str = "") -> str:
        """Raise a PO at `when`; its number. Raises ActionError (unknown ids, bad quantity, no capacity)."""
        with self._lock:
            sup = cat.SUPPLIER_BY_CODE.get(supplier_code)
            if sup is None:
                raise ActionError(422, f"unknown supplier {supplier_code!r}", field="supplier_code")
            if sku not in self._sku_spec:
                raise ActionError(422, f"unknown sku {sku!r}", field="sku")
            if warehouse_id not in cat.WAREHOUSE_BY_ID:
                raise ActionError(422, f"unknown warehouse {warehouse_id!r}", field="warehouse_id")
            if (supplier_code, warehouse_id) not in self._routes:
                raise ActionError(422, f"{supplier_code} does not ship to {warehouse_id}", field="warehouse_id")
            check_quantity(quantity)
            if quick_response and supplier_code not in QUICK_RESPONSE:
                raise ActionError(422, f"{supplier_code} has no reserved quick-response capacity",
                                  field="quick_response")
            t = self._act_time(when)
            if need_by is not None and need_by < t.date():
                raise ActionError(422, f"{need_by.isoformat()} is in the past", field="need_by")
            row = self._capacity_row(sup)
            if quick_response:
                free, by = math.floor(row["quick_response_free_per_day"] * QUICK_RESPONSE[supplier_code][1]), \
                    t + timedelta(days=QUICK_RESPONSE[supplier_code][1])
            else:
                free, by = math.floor(row["regular_free_per_day"] * sup.lead_time_days), \
                    t + timedelta(days=sup.lead_time_days)
            if quantity > free:
                kind = "quick-response" if quick_response else "regular"
                raise ActionError(409, f"{supplier_code} can make at most {free} more units by "
                                  f"{by.date().isoformat()} from its free {kind} capacity; {quantity} asked",
                                  code="capacity_exceeded", free_capacity=free)
            number = f"PO-{t.year}-A{len(self._api_pos) + 1:04d}"
            po = self._new_po(number, sup, sku, warehouse_id, quantity, t, quick_response)
            self._api_pos[number] = _ApiPo(po, quick_response, need_by, reference)
            self._pos.append(po)
            self._open_pos.append(po)
            return number

    def _new_po(self, number: str, sup: cat.SupplierSpec, sku: str, wh: str, qty: int, t: datetime,
                quick: bool) -> _Po:
        rng = _rng(self.seed, "po", number)
        unit_cost = self._sku_spec[sku].unit_cost
        if quick:                       # reserved line: starts within hours, a premium on the price
            promised = ceil_hour(t + timedelta(days=QUICK_RESPONSE[sup.code][1]))
            start_at = t + timedelta(hours=rng.uniform(1, 3))
            span_h = max(2.0, (promised - start_at) / H - 4)
            rate, unit_cost = qty / span_h * rng.uniform(1.0, 1.1), unit_cost * 1.15 * rng.uniform(0.98, 1.02)
        else:                           # as the world's own POs (sandbox/world_supply.py _create_po)
            promised = (t + timedelta(days=sup.lead_time_days)).replace(hour=0, minute=0, second=0, microsecond=0)
            start_at = t + timedelta(hours=rng.uniform(4, 30) if sup.tier != "emergency" else rng.uniform(1, 4))
            span_h = max(4.0, (promised - start_at) / H - 12)
            rate, unit_cost = qty / span_h * rng.uniform(0.95, 1.1), unit_cost * rng.uniform(0.95, 1.05)
        return _Po(number, sup, sku, wh, qty, unit_cost, t, promised, start_at, rate, rng.uniform(0.985, 0.995))

    def _capacity_row(self, sup: cat.SupplierSpec) -> dict:
        """Units a day the supplier makes, has promised (open POs still in production) and has free."""
        share, quick_lead = QUICK_RESPONSE.get(sup.code, (0.0, None))
        reserved = round(sup.capacity_per_day * share)
        regular = quick = 0.0
        for po in self._open_pos:
            if po.supplier is not sup or po.complete_at is not None:
                continue
            api = self._api_pos.get(po.number)
            if api is not None and api.quick:
                quick += max(0.0, po.qty - po.produced) / quick_lead
            else:
                regular += po.rate_per_h * 24
        regular_free = max(0.0, sup.capacity_per_day - reserved - regular)
        quick_free = max(0.0, reserved - quick)
        return {"supplier_code": sup.code, "capacity_per_day": sup.capacity_per_day,
                "committed_per_day": round(regular + quick), "free_per_day": math.floor(regular_free + quick_free),
                "lead_time_days": sup.lead_time_days, "quick_response_lead_time_days": quick_lead,
                "quick_response_capacity_per_day": reserved, "quick_response_free_per_day": math.floor(quick_free),
                "regular_free_per_day": math.floor(regular_free)}

    def _find_po(self, number: str) -> _Po | None:
        api = self._api_pos.get(number)
        if api is not None:
            return api.po
        return next((po for po in self._pos if po.number == number), None)

    def cancel_po(self, number: str, when: datetime) -> None:
        """Cancel a PO that has not shipped (again: nothing changes). Its booking goes with it."""
        with self._lock:
            po = self._find_po(number)
            if po is None:
                raise ActionError(404, f"no purchase order {number}", code="not_found")
            if number in self._po_cancelled:
                return
            t = self._act_time(when)
            if po.track is not None:
                raise ActionError(409, f"{number} has already shipped ({po.shipped_qty} units); it can no "
                                  "longer be cancelled", code="already_shipped")
            if po in self._open_pos:
                self._open_pos.remove(po)
            po.closed = True
            qc = po.v_states[-1][1] if po.v_states else 0
            po.v_times.append(t)                    # the portal shows the cancellation from now on
            po.v_states.append((int(po.produced), qc, 0, "cancelled"))
            self._po_cancelled[number] = t
            booking = self._booking_by_po.get(number)
            if booking is not None and booking.cancelled_at is None:
                booking.cancelled_at = t

    # --- forwarder bookings ---------------------------------------------------------------------
    def book_freight(self, mode: str, supplier_code: str, warehouse_id: str, sku: str, quantity: int,
                     when: datetime, po_number: str | None = None, reference: str = "") -> str:
        """Book air or sea freight from a supplier to a warehouse; the booking id."""
        with self._lock:
            if mode not in ("air", "sea"):
                raise ActionError(422, "must be air or sea", field="mode")
            sup = cat.SUPPLIER_BY_CODE.get(supplier_code)
            if sup is None:
                raise ActionError(422, f"unknown supplier {supplier_code!r}", field="origin.supplier_code")
            if warehouse_id not in cat.WAREHOUSE_BY_ID:
                raise ActionError(422, f"unknown warehouse {warehouse_id!r}", field="destination.warehouse_id")
            if sku not in self._sku_spec:
                raise ActionError(422, f"unknown sku {sku!r}", field="cargo.sku")
            check_quantity(quantity, "cargo.quantity")
            route = booking_route(sup, warehouse_id, mode)
            if route is None:
                raise ActionError(422, f"no {mode} freight service from {supplier_code} to {warehouse_id}",
                                  field="mode")
            t = self._act_time(when)
            po = None
            if po_number:
                po = self._bookable_po(po_number, supplier_code, warehouse_id, sku, quantity)
                etd = self._ready_estimate(po, t)
            else:
                etd = ceil_hour(t + timedelta(hours=2))
            freight_key, stops = route
            booking_id = f"BKG-{len(self._bookings) + 1:06d}"
            booking = _Booking(booking_id, mode, freight_key, stops, sup, warehouse_id, sku, quantity, po,
                               booking_cost(mode, quantity), t, etd, ceil_hour(etd + mean_hours(stops) * H),
                               reference)
            self._bookings[booking_id] = booking
            if po is not None:
                self._booking_by_po[po.number] = booking
            else:
                cargo = _Po(booking_id, sup, sku, warehouse_id, quantity, self._sku_spec[sku].unit_cost, t, etd,
                            etd, 0.0, 1.0, produced=quantity, shipped_qty=quantity, acked=True)
                self._defer(etd, lambda at, warm: booking.cancelled_at is None and self._ship_booked(
                    cargo, booking, at))
            return booking_id

    def _bookable_po(self, number: str, supplier_code: str, warehouse_id: str, sku: str, quantity: int) -> _Po:
        po = self._find_po(number)
        if po is None:
            raise ActionError(422, f"unknown purchase order {number}", field="cargo.po_number")
        for field, want, got in (("origin.supplier_code", po.supplier.code, supplier_code),
                                 ("destination.warehouse_id", po.warehouse_id, warehouse_id),
                                 ("cargo.sku", po.sku, sku)):
            if want != got:
                raise ActionError(422, f"{number} is {want}, not {got}", field=field)
        if quantity > po.qty:
            raise ActionError(422, f"{number} is for {po.qty} units, not {quantity}", field="cargo.quantity")
        if number in self._po_cancelled:
            raise ActionError(409, f"{number} was cancelled", code="po_cancelled")
        if po.track is not None:
            raise ActionError(409, f"{number} has already shipped", code="already_shipped")
        booked = self._booking_by_po.get(number)
        if booked is not None and booked.cancelled_at is None:
            raise ActionError(409, f"{number} is already booked on {booked.booking_id}", code="already_booked",
                              booking_id=booked.booking_id)
        return po

    def _ready_estimate(self, po: _Po, t: datetime) -> datetime:
        """When the supplier will hand the PO over: production left at its rate, then QC."""
        done = po.complete_at
        if done is None:
            start = max(t, po.start_at)
            done = start + timedelta(hours=(po.qty - po.produced) / po.rate_per_h if po.rate_per_h > 0 else 0)
        return ceil_hour(max(t, done + timedelta(hours=QC_HOURS)))

    def _ship(self, po: _Po, when: datetime) -> None:
        booking = self._booking_by_po.get(po.number)
        if booking is None or booking.cancelled_at is not None:
            super()._ship(po, when)
        else:
            self._ship_booked(po, booking, when)

    def _ship_booked(self, po: _Po, booking: _Booking, when: datetime) -> None:
        rng = _rng(self.seed, "bkg", booking.booking_id)
        slug = _pick(rng, cat.FREIGHT[booking.freight_key])
        track = _Track(
            id=f"{rng.getrandbits(128):032x}", number=_tracking_number(rng, slug), slug=slug,
            company=FREIGHT_NAMES[slug], mode=booking.mode, direction="inbound", warehouse_id=po.warehouse_id,
            origin=po.supplier.place, dest=_place_of_warehouse(po.warehouse_id), created_at=when,
            stops=booking.stops, po=po, no_offset_share=0.3 if booking.mode == "sea" else 0.1,
            eta_noise_h=24.0 if booking.mode == "sea" else 4.0)
        po.track = booking.track = track
        self._add_track(track)

    def cancel_booking(self, booking_id: str, when: datetime) -> None:
        with self._lock:
            booking = self._bookings.get(booking_id)
            if booking is None:
                raise ActionError(404, f"no booking {booking_id}", code="not_found")
            if booking.cancelled_at is not None:
                return
            t = self._act_time(when)
            if booking.track is not None:
                raise ActionError(409, f"{booking_id} has already departed; it can no longer be cancelled",
                                  code="already_departed")
            booking.cancelled_at = t
