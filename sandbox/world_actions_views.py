""""As of now" views of what the outside world wrote (sandbox/world_actions.py): supplier capacity,
a raised PO, a booking and a transfer, as plain dicts (datetimes UTC) the vendor formats render."""
from __future__ import annotations

import bisect
from datetime import datetime

from sandbox import catalog as cat
from sandbox.freight import route_nodes


class ActionViews:
    """Part of the Actions mixin of World; reads the state Actions._init_actions sets up."""

    def capacity(self, now: datetime, supplier_code: str | None = None) -> list[dict]:
        """Per supplier: capacity, committed and free units a day (regular and quick-response)."""
        with self._lock:
            self._advance(self._cut(now))
            return [self._capacity_row(s) for s in cat.SUPPLIERS
                    if supplier_code is None or s.code == supplier_code]

    def raised_po(self, number: str) -> dict:
        """A PO raised through the portal, as the portal's write API answers it."""
        with self._lock:
            api = self._api_pos[number]
            po = api.po
            return {"po_number": po.number, "supplier_code": po.supplier.code, "sku": po.sku,
                    "warehouse_id": po.warehouse_id, "quantity": po.qty, "unit_cost": round(po.unit_cost, 2),
                    "status": "cancelled" if number in self._po_cancelled else "submitted",
                    "promised_ship_date": po.promised_ship.date(), "created_at": po.ordered_at,
                    "quick_response": api.quick, "need_by": api.need_by, "reference": api.reference}

    def cancelled_po(self, number: str) -> dict:
        """Any PO after a cancel request (raised here or by the world's own planning)."""
        with self._lock:
            if number in self._api_pos:
                return self.raised_po(number)
            po = self._find_po(number)
            return {"po_number": po.number, "supplier_code": po.supplier.code, "sku": po.sku,
                    "warehouse_id": po.warehouse_id, "quantity": po.qty, "unit_cost": round(po.unit_cost, 2),
                    "status": "cancelled", "promised_ship_date": po.promised_ship.date(),
                    "created_at": po.ordered_at}

    def booking(self, booking_id: str, now: datetime) -> dict | None:
        with self._lock:
            b = self._bookings.get(booking_id)
            if b is None:
                return None
            c = self._cut(now)
            self._advance(c)
            status, etd, eta, tracking = "confirmed", b.etd, b.eta, None
            tr = b.track
            if b.cancelled_at is not None:
                status = "cancelled"
            elif tr is not None and tr.created_at < c:
                tracking = tr.number
                etd = tr.created_at
                k = bisect.bisect_left(tr.cp_times, c)
                tags = {cp.tag for cp in tr.checkpoints[:k]}
                if "Delivered" in tags:
                    status = "delivered"
                elif tags - {"InfoReceived", "Pending"}:
                    status = "in_transit"
                e = bisect.bisect_left(tr.eta_times, c)
                if e:
                    eta = tr.eta_values[e - 1]
            return {"booking_id": b.booking_id, "status": status, "mode": b.mode,
                    "cost": {"amount": b.cost, "currency": "USD"}, "etd": etd, "eta": eta,
                    "route": route_nodes(b.stops), "origin": {"supplier_code": b.supplier.code},
                    "destination": {"warehouse_id": b.warehouse_id},
                    "cargo": {"sku": b.sku, "quantity": b.quantity, "po_number": b.po.number if b.po else None},
                    "reference": b.reference, "tracking_number": tracking, "created_at": b.created_at}

    def transfer(self, transfer_id: str, now: datetime) -> dict | None:
        with self._lock:
            tr = self._transfers.get(transfer_id)
            if tr is None:
                return None
            c = self._cut(now)
            self._advance(c)
            received = tr.received_at is not None and tr.received_at < c
            eta = tr.eta
            if tr.track is not None and tr.track.created_at < c:
                e = bisect.bisect_left(tr.track.eta_times, c)
                eta = tr.track.eta_values[e - 1] if e else eta
            return {"transfer_id": tr.transfer_id, "status": "received" if received else "in_transit",
                    "mode": tr.mode, "tracking_number": tr.track.number if tr.track else None,
                    "sku": tr.sku, "from_warehouse": tr.from_wh, "to_warehouse": tr.to_wh,
                    "quantity": tr.quantity if tr.moved is None else tr.moved, "ship_at": tr.ship_at,
                    "eta": eta, "received_at": tr.received_at if received else None,
                    "reference": tr.reference, "created_at": tr.created_at}
