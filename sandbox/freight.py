"""Freight a forwarder books on request (issue 13): express air and sea routes from a supplier to a
warehouse, their prices, and how long a warehouse-to-warehouse transfer takes.

The world's own POs ship on the default routes (sandbox/routes.py); a booking replaces that route
for one PO. Routes pass only nodes of the catalog (UN/LOCODE ids), so the map and the DCSA/AfterShip
views know every place a booked shipment passes."""
from __future__ import annotations

from sandbox import catalog as cat
from sandbox.routes import _node_place, _place_of_warehouse
from sandbox.sim import Stop, _km

# Where air cargo from a supplier enters the network, and the airport serving each warehouse.
AIR_GATEWAY = {"CN-ANJI-02": "CNPVG", "VN-BAMBOO-01": "HKHKG"}
DEST_AIRPORT = {"US-WEST-LA": "USLAX", "US-EAST-NJ": "USJFK", "EU-3PL-DE": "DEFRA"}
DEST_SEAPORT = {"US-WEST-LA": "USLAX", "US-EAST-NJ": "USNYC", "EU-3PL-DE": "NLRTM"}
SEA_HOURS = {"USLAX": (300, 370), "USNYC": (640, 740), "NLRTM": (680, 780)}

# What a booking costs (USD): a fixed handling charge plus a rate per unit of cargo.
RATES = {"air": (350.0, 1.80), "sea": (180.0, 0.35)}

# A stock transfer: pick/pack before the truck leaves, then the trip (truck inside the US, air freight
# between continents through the warehouse's airport).
TRANSFER_HANDLING_H = 2.0
TRUCK_KMH = 60.0
WAREHOUSE_AIRPORT = {**DEST_AIRPORT, "CN-SZ-DC": "HKHKG"}


def booking_cost(mode: str, quantity: int) -> float:
    fixed, per_unit = RATES[mode]
    return round(fixed + per_unit * quantity, 2)


def booking_route(supplier: cat.SupplierSpec, wh_id: str, mode: str) -> tuple[str, tuple[Stop, ...]] | None:
    """(freight key for cat.FREIGHT, stops) of a booked shipment, or None when the forwarder has no
    such service (trucked suppliers, the domestic consolidation centre)."""
    if wh_id not in DEST_AIRPORT or supplier.code not in AIR_GATEWAY:
        return None
    f, w, n = supplier.place, _place_of_warehouse(wh_id), _node_place
    ready = Stop(f, "InfoReceived", "InfoReceived_001", "Booking confirmed, cargo ready at shipper", 0.2, 1)
    if supplier.code == "VN-BAMBOO-01":
        first = (ready, Stop(f, "InTransit", "InTransit_002", "Cargo picked up by truck at factory", 3, 10),
                 Stop(n("VNDDG"), "InTransit", "InTransit_007", "Departed Huu Nghi border gate, export cleared",
                      18, 30, node="VNDDG"))
    else:
        first = (ready, Stop(f, "InTransit", "InTransit_002", "Picked up at factory", 2, 5))
    if mode == "air":
        gate, port = AIR_GATEWAY[supplier.code], DEST_AIRPORT[wh_id]
        return "air", first + (
            Stop(n(gate), "InTransit", "InTransit_003", f"Received at {n(gate).location} air cargo terminal",
                 3, 6, node=gate),
            Stop(n(gate), "InTransit", "InTransit_007", f"Express flight departed {n(gate).city}", 3, 8,
                 node=gate),
            Stop(n(port), "InTransit", "InTransit_004", f"Flight arrived at {n(port).city}", 12, 15, node=port),
            Stop(n(port), "InTransit", "InTransit_006", "Customs clearance started", 1, 3, node=port),
            Stop(n(port), "InTransit", "InTransit_005", "Customs released", 2, 6, node=port),
            Stop(n(port), "OutForDelivery", "OutForDelivery_001", "On truck to warehouse", 2, 5),
            Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 1, 3))
    if mode == "sea":
        port = DEST_SEAPORT[wh_id]
        return "sea", first + (
            Stop(n("CNYTN"), "InTransit", "InTransit_003", "Gate in full at Yantian terminal", 24, 48,
                 node="CNYTN"),
            Stop(n("CNYTN"), "InTransit", "InTransit_007", "Vessel departed Yantian", 20, 44,
                 kind="depart_sea", node="CNYTN"),
            Stop(n(port), "InTransit", "InTransit_004", f"Vessel arrived at {n(port).city}", *SEA_HOURS[port],
                 node=port),
            Stop(n(port), "InTransit", "InTransit_006", "Discharged, customs clearance started", 10, 30,
                 node=port),
            Stop(n(port), "InTransit", "InTransit_005", "Customs released", 8, 30, node=port),
            Stop(n(port), "OutForDelivery", "OutForDelivery_001", "Gate out, on truck to warehouse", 6, 20,
                 node=port),
            Stop(w, "Delivered", "Delivered_001", "Delivered to warehouse dock", 2, 8))
    return None


def route_nodes(stops: tuple[Stop, ...]) -> list[str]:
    """The UN/LOCODE ids a route passes, in order, each once."""
    out: list[str] = []
    for s in stops:
        if s.node and s.node not in out:
            out.append(s.node)
    return out


def mean_hours(stops: tuple[Stop, ...]) -> float:
    return sum((s.lo + s.hi) / 2 for s in stops)


def transfer_route(from_wh: str, to_wh: str) -> tuple[str, str, tuple[Stop, ...]]:
    """(mode, freight key, stops) of a warehouse-to-warehouse transfer, from the moment it ships."""
    a, b = cat.WAREHOUSE_BY_ID[from_wh], cat.WAREHOUSE_BY_ID[to_wh]
    f, w, n = a.place, b.place, _node_place
    start = (Stop(f, "InfoReceived", "InfoReceived_001", "Transfer order released, cargo ready at dock", 0.1, 0.5),
             Stop(f, "InTransit", "InTransit_002", "Picked up by carrier", 0.5, 2))
    if a.market == b.market == "US":
        road_h = _km(f, w) / TRUCK_KMH
        return "truck", "truck", start + (
            Stop(n("USMEM"), "InTransit", "InTransit_003", "Arrived at terminal", road_h * 0.45, road_h * 0.55,
                 node="USMEM"),
            Stop(n("USMEM"), "InTransit", "InTransit_007", "Departed terminal", 2, 6, node="USMEM"),
            Stop(w, "OutForDelivery", "OutForDelivery_001", "Out for delivery", road_h * 0.45, road_h * 0.55),
            Stop(w, "Delivered", "Delivered_001", "Received at destination warehouse", 1, 3))
    gate, port = WAREHOUSE_AIRPORT[from_wh], WAREHOUSE_AIRPORT[to_wh]
    return "air", "air", start + (
        Stop(n(gate), "InTransit", "InTransit_003", f"Received at {n(gate).city} air cargo terminal", 3, 8,
             node=gate),
        Stop(n(gate), "InTransit", "InTransit_007", f"Flight departed {n(gate).city}", 4, 16, node=gate),
        Stop(n(port), "InTransit", "InTransit_004", f"Flight arrived at {n(port).city}", 10, 16, node=port),
        Stop(n(port), "InTransit", "InTransit_006", "Customs clearance started", 1, 4, node=port),
        Stop(n(port), "InTransit", "InTransit_005", "Customs released", 2, 12, node=port),
        Stop(n(port), "OutForDelivery", "OutForDelivery_001", "On truck to warehouse", 2, 6),
        Stop(w, "Delivered", "Delivered_001", "Received at destination warehouse", 1, 3))
