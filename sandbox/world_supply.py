"""Supply: replenishment rounds, purchase orders, production and supplier progress reports,
handover to freight and arrival into stock, plus the supplier-portal-shaped PO view."""
from __future__ import annotations

import bisect
import math
import random
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.model import PurchaseOrder
from sandbox.routes import _place_of_warehouse, _tracking_number, FREIGHT_NAMES
from sandbox.sim import REVIEW_DAYS, ORDER_DAYS, QC_HOURS, H, _rng, _pick, _Track, _Po


class Supply:
    """Mixin of World (sandbox/world.py): supply. It uses the state World.__init__ sets up."""

    def _arrive(self, tr: _Track, when: datetime, warm: bool) -> None:
        tr.delivered_done = True
        po = tr.po
        po.arrived = True
        key = (po.sku, po.warehouse_id)
        self._set_stock(key, self._stock[key] + po.shipped_qty, when, warm)

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
