"""Ocean legs of inbound sea shipments as a carrier's Track & Trace sees them (the source of the
sandbox's DCSA events, sandbox/formats/dcsa.py).

Each inbound sea shipment is one booking with one container on one vessel. Its ocean milestones
come from the shipment's own checkpoints (gate in, departure, arrival, discharge, customs release,
gate out: the same instants AfterShip shows) and its vessel arrival estimates from the shipment's
ETA revisions: the sim's ETA is the warehouse delivery; the vessel's ETA at the port of discharge
is that minus the planned hours from berth to dock. A scenario that delays the sea departure (port
congestion) revises the ETA, so the carrier re-announces a later arrival. Everything is "as
recorded by `now`": a view never shows a checkpoint or a revision before it was made."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.sim import _rng, _Track, _zone

FLEET = {
    "maersk": ("MAERSK ESSEN", "MAERSK EMDEN", "MAERSK ELBA", "MAERSK EDINBURGH", "MAERSK ESSEX"),
    "cosco": ("COSCO SHIPPING ARIES", "COSCO SHIPPING TAURUS", "COSCO SHIPPING GEMINI", "COSCO PRIDE"),
}
CARRIER_CODES = {"maersk": "MAEU", "cosco": "COSU"}  # SMDG liner codes (vesselOperatorCarrierCode)


@dataclass(frozen=True)
class Milestone:
    """A checkpoint of the ocean leg: `what` is one of booked, gate_in, departure_delayed, departed,
    arrived, discharged, released, gate_out."""
    index: int                  # position among the shipment's checkpoints (stable: the past never changes)
    what: str
    at: datetime                # when it happened (UTC)
    recorded_at: datetime       # when the carrier recorded it (UTC)
    node: str | None            # UN/LOCODE of the port, None away from a port


@dataclass(frozen=True)
class Voyage:
    track_id: str
    container: str              # equipment reference (the sea tracking number is the container no.)
    booking: str                # carrier booking reference
    bill_of_lading: str
    carrier: str                # courier slug: maersk | cosco
    po_number: str | None
    warehouse_id: str
    pol: str                    # port of loading (UN/LOCODE)
    pod: str                    # port of discharge
    vessel_name: str
    vessel_imo: str
    voyage_number: str
    booked_at: datetime
    planned_departure: datetime
    milestones: tuple[Milestone, ...]
    etas: tuple[tuple[datetime, datetime], ...]   # (announced at, vessel ETA at pod), oldest first


_WHAT = (("Booking confirmed", "booked"), ("Gate in full", "gate_in"),
         ("Vessel departure delayed", "departure_delayed"), ("Vessel departed", "departed"),
         ("Vessel arrived", "arrived"), ("Discharged", "discharged"), ("Customs released", "released"),
         ("Gate out", "gate_out"), ("On barge/truck", "gate_out"))


def _milestone_kind(message: str) -> str | None:
    return next((what for prefix, what in _WHAT if message.startswith(prefix)), None)


def _ports(tr: _Track) -> tuple[str, str, float, float]:
    """(pol, pod, planned hours from booking to departure, planned hours from berth to dock)."""
    pol = pod = None
    to_departure = after_arrival = 0.0
    seen_arrival = False
    for stop in tr.stops:
        mean = (stop.lo + stop.hi) / 2
        if seen_arrival:
            after_arrival += mean
        elif pol is None or stop.kind == "depart_sea":
            to_departure += mean
        if stop.kind == "depart_sea":
            pol = stop.node
        elif pol is not None and pod is None and stop.message.startswith("Vessel arrived"):
            pod, seen_arrival = stop.node, True
    return pol, pod, to_departure, after_arrival


class Ocean:
    """Mixin of World (sandbox/world.py): the ocean legs of inbound sea shipments."""

    def voyages(self, now: datetime) -> list[Voyage]:
        with self._lock:
            c, hit = self._view("voyages", now)
            if hit is not None:
                return hit
            n = bisect.bisect_left(self._track_keys, (c,))
            out = [self._voyage(tr, c) for tr in self._tracks[:n]
                   if tr.mode == "sea" and tr.direction == "inbound"]
            return self._remember("voyages", c, None, [v for v in out if v is not None])

    def _voyage(self, tr: _Track, c: datetime) -> Voyage | None:
        pol, pod, to_departure, after_arrival = _ports(tr)
        if pol is None or pod is None:
            return None
        rng = _rng(self.seed, "voyage", tr.id)
        fleet = FLEET.get(tr.slug, FLEET["maersk"])
        vessel = fleet[rng.randrange(len(fleet))]
        imo = f"9{rng.randrange(100000, 999999)}"
        week = tr.created_at.isocalendar()
        k = bisect.bisect_left(tr.cp_times, c)
        milestones = []
        for i, cp in enumerate(tr.checkpoints[:k]):
            what = _milestone_kind(cp.message)
            if what is None:
                continue
            node = pol if what in ("gate_in", "departure_delayed", "departed") else (
                pod if what in ("arrived", "discharged", "released", "gate_out") else None)
            zone = _zone(cat.NODE_BY_ID[node].place.tz) if node else _zone(tr.origin.tz)
            at = cp.checkpoint_time_local.replace(tzinfo=zone).astimezone(tr.created_at.tzinfo)
            milestones.append(Milestone(i, what, at, cp.created_at, node))
        e = bisect.bisect_left(tr.eta_times, c)
        berth_to_dock = timedelta(hours=after_arrival)
        etas = tuple((t, v - berth_to_dock) for t, v in zip(tr.eta_times[:e], tr.eta_values[:e]))
        code = CARRIER_CODES.get(tr.slug, "MAEU")
        return Voyage(
            track_id=tr.id, container=tr.number, booking=f"{code[:3]}{tr.id[:9].upper()}",
            bill_of_lading=f"{code}{tr.id[9:19].upper()}", carrier=tr.slug,
            po_number=tr.po.number if tr.po else None, warehouse_id=tr.warehouse_id, pol=pol, pod=pod,
            vessel_name=vessel, vessel_imo=imo, voyage_number=f"{week[1]:02d}{week[0] % 100:02d}E",
            booked_at=tr.created_at, planned_departure=tr.created_at + timedelta(hours=to_departure),
            milestones=tuple(milestones), etas=etas)
