"""Warehouse transfers written through the WMS API (issue 13, sandbox/formats/wms.py): stock leaves the
source at once and travels as an inbound tracking (truck inside the US, air between continents); it
lands in the destination when that shipment is delivered."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.actions_common import ActionError, check_quantity
from sandbox.freight import TRANSFER_HANDLING_H, transfer_route
from sandbox.routes import FREIGHT_NAMES, _place_of_warehouse, _tracking_number
from sandbox.sim import _pick, _rng, _Track


@dataclass
class _Transfer:
    transfer_id: str
    sku: str
    from_wh: str
    to_wh: str
    quantity: int
    created_at: datetime
    ship_at: datetime
    eta: datetime
    reference: str
    mode: str = "truck"
    moved: int | None = None       # what actually left (never more than the shelf held)
    received_at: datetime | None = None
    track: _Track | None = None    # the inbound shipment Tower follows like any other


class Transfers:
    """Part of the Actions mixin of World (sandbox/world_actions.py): its `_arrive` hands delivered
    transfer shipments to `_transfer_in`."""

    def _init_transfers(self) -> None:
        self._transfers: dict[str, _Transfer] = {}
        self._transfer_tracks: dict[str, _Transfer] = {}    # tracking id -> the transfer it carries
        self._leaving: dict[tuple[str, str], int] = {}      # units promised to transfers not yet gone

    def place_transfer(self, sku: str, from_wh: str, to_wh: str, quantity: int, when: datetime,
                       reference: str = "") -> str:
        """Move stock between warehouses: out of `from_wh` now, into `to_wh` when its shipment is
        delivered (an inbound tracking, planned like any other). Its id."""
        with self._lock:
            if sku not in self._sku_spec:
                raise ActionError(422, f"unknown sku {sku!r}", field="sku")
            for field, wh in (("from_warehouse", from_wh), ("to_warehouse", to_wh)):
                if wh not in cat.WAREHOUSE_BY_ID:
                    raise ActionError(422, f"unknown warehouse {wh!r}", field=field)
            if from_wh == to_wh:
                raise ActionError(422, "must differ from from_warehouse", field="to_warehouse")
            check_quantity(quantity)
            t = self._act_time(when)
            key = (sku, from_wh)
            available = max(0, int(self._stock[key]) - self._leaving.get(key, 0))
            if quantity > available:
                raise ActionError(409, f"{from_wh} holds {available} units of {sku} that can leave; {quantity} "
                                  "asked", code="insufficient_stock", available=available)
            transfer_id = f"TRF-{len(self._transfers) + 1:06d}"
            ship_at = t + timedelta(hours=TRANSFER_HANDLING_H)
            mode, freight_key, stops = transfer_route(from_wh, to_wh)
            rng = _rng(self.seed, "trf", transfer_id)
            slug = _pick(rng, cat.FREIGHT[freight_key])
            track = _Track(
                id=f"{rng.getrandbits(128):032x}", number=_tracking_number(rng, slug), slug=slug,
                company=FREIGHT_NAMES[slug], mode=mode, direction="inbound", warehouse_id=to_wh,
                origin=cat.WAREHOUSE_BY_ID[from_wh].place, dest=_place_of_warehouse(to_wh), created_at=ship_at,
                stops=stops, eta_noise_h=3.0)
            self._plan(track)
            transfer = _Transfer(transfer_id, sku, from_wh, to_wh, quantity, t, ship_at, track.eta_values[0],
                                 reference, mode, track=track)
            self._transfers[transfer_id] = transfer
            self._transfer_tracks[track.id] = transfer
            self._leaving[key] = self._leaving.get(key, 0) + quantity
            self._defer(t, lambda at, warm: self._transfer_out(transfer, at, warm))
            return transfer_id

    def _transfer_out(self, transfer: _Transfer, at: datetime, warm: bool) -> None:
        key = (transfer.sku, transfer.from_wh)
        self._leaving[key] -= transfer.quantity
        transfer.moved = min(transfer.quantity, int(self._stock[key]))   # demand since may have taken some
        self._set_stock(key, self._stock[key] - transfer.moved, at, warm)
        self._add_track(transfer.track)             # leaves at ship_at; arrives when delivered (_arrive)

    def _transfer_in(self, transfer: _Transfer, at: datetime, warm: bool) -> None:
        key = (transfer.sku, transfer.to_wh)
        self._set_stock(key, self._stock[key] + transfer.moved, at, warm)
        transfer.received_at = at
