"""Where goods travel in the world simulation: inbound routes from suppliers to warehouses (mode,
freight, stops), tracking-number styles, freight carriers and AfterShip subtag texts."""
from __future__ import annotations

import random

from sandbox import catalog as cat
from sandbox.catalog import Place
from sandbox.sim import Stop


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
