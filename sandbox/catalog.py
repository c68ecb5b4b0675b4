"""Static reference data of the "Green Living" sandbox world (DESIGN §1).

Plain tuples and dicts, no behaviour: who supplies what, where stock sits, which ports and hubs goods
pass, who buys (markets, cities, merchants, channels) and which carriers move parcels. `world.py`
turns this into model records and simulates the dynamics. Coordinates are real (rounded), node ids are
UN/LOCODEs, time zones are IANA names (checkpoints carry local wall time)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A point a shipment passes: what a carrier prints in a checkpoint."""
    location: str
    city: str
    state: str | None
    country: str
    lat: float
    lon: float
    tz: str


# ─── suppliers (three tiers, DESIGN §1: ~65 / 25 / 10 % of volume) ──────────────────────────────
@dataclass(frozen=True)
class SupplierSpec:
    code: str
    name: str
    tier: str
    share: float                 # planned share of replenishment volume
    place: Place
    lead_time_days: float        # quoted production + handover time
    capacity_per_day: int
    report_every_h: int          # how often the supplier posts progress
    report_offset_h: int         # first report hour of the day (UTC)


SUPPLIERS = (
    SupplierSpec("VN-BAMBOO-01", "Thanh Hoa Bamboo Crafts Co., Ltd.", "primary", 0.65,
                 Place("Thanh Hoa Bamboo Crafts, Le Mon Industrial Park", "Thanh Hoa", "Thanh Hoa", "VN",
                       19.786, 105.812, "Asia/Ho_Chi_Minh"), 10, 1800, 4, 1),
    SupplierSpec("CN-ANJI-02", "Anji Zhuyuan Bamboo Products Co., Ltd.", "backup", 0.25,
                 Place("Anji Zhuyuan Bamboo Products, Dipu Industrial Zone", "Anji", "Zhejiang", "CN",
                       30.638, 119.680, "Asia/Shanghai"), 6, 900, 6, 2),
    SupplierSpec("PRINT3D-LA", "LA Print Lab (on-demand 3D printing)", "emergency", 0.10,
                 Place("LA Print Lab, 1200 E 7th St", "Los Angeles", "CA", "US",
                       34.034, -118.236, "America/Los_Angeles"), 1.5, 250, 3, 0),
)
SUPPLIER_BY_CODE = {s.code: s for s in SUPPLIERS}
PRIMARY = "VN-BAMBOO-01"


# ─── SKUs: bamboo tableware. weight = share of order lines; cost/price in USD ───────────────────
@dataclass(frozen=True)
class SkuSpec:
    sku: str
    name: str
    sku_class: str
    unit_cost: float
    unit_price: float
    weight: float


SKUS = (
    SkuSpec("GL-BOWL-01", "Bamboo Salad Bowl, Large", "core", 4.10, 29.00, 0.13),
    SkuSpec("GL-PLATE-01", "Bamboo Dinner Plates, Set of 4", "core", 5.20, 34.00, 0.12),
    SkuSpec("GL-CUTL-01", "Bamboo Cutlery Travel Set", "core", 1.85, 14.00, 0.12),
    SkuSpec("GL-CUP-01", "Bamboo Fibre Cup 350 ml", "core", 1.40, 12.00, 0.10),
    SkuSpec("GL-STRAW-01", "Bamboo Straws, 10-pack", "core", 0.90, 8.50, 0.09),
    SkuSpec("GL-BOWL-02", "Bamboo Rice Bowls, Set of 2", "potential", 2.60, 18.00, 0.06),
    SkuSpec("GL-BOARD-01", "Bamboo Cutting Board", "potential", 3.30, 24.00, 0.06),
    SkuSpec("GL-TRAY-01", "Bamboo Serving Tray", "potential", 3.90, 27.00, 0.05),
    SkuSpec("GL-KIDS-01", "Kids' Bamboo Dinner Set", "potential", 3.10, 22.00, 0.05),
    SkuSpec("GL-LUNCH-01", "Bamboo Lunch Box", "potential", 2.80, 21.00, 0.05),
    SkuSpec("GL-MUG-01", "Bamboo Travel Mug", "potential", 2.40, 19.00, 0.04),
    SkuSpec("GL-CHOP-01", "Bamboo Chopsticks, 5 Pairs", "long_tail", 0.70, 7.50, 0.03),
    SkuSpec("GL-COAST-01", "Bamboo Coasters, 6-pack", "long_tail", 1.10, 11.00, 0.03),
    SkuSpec("GL-SPOON-01", "Bamboo Cooking Utensil Set", "long_tail", 2.20, 16.00, 0.03),
    SkuSpec("GL-SOAP-01", "Bamboo Soap Dish", "long_tail", 0.60, 6.50, 0.02),
    SkuSpec("GL-NAPK-01", "Bamboo Napkin Rings, 4-pack", "long_tail", 0.95, 9.00, 0.02),
)
COVER_DAYS = {"core": 45, "potential": 30, "long_tail": 15}
# Cover the planner keeps for single SKUs (overrides the class): it has not caught up with the viral
# bowl and keeps a thin cover for it, so member day finds the US shelves short (issue 13, item 5).
COVER_DAYS_BY_SKU = {"GL-BOWL-01": 10}
# Demand the forecast has not caught up with: (sku, market) → actual / planned share of order lines.
# The salad bowl went viral on TikTok in the US, so the planner keeps under-ordering it: a realistic
# sell-out risk for the war room on member day.
# Calibrated with COVER_DAYS_BY_SKU and scenarios.HERO so that, in the default world (seed 7, member
# day), the bowl runs out in the US during the event and ~40 % of its member-day demand is lost.
TRENDING = {("GL-BOWL-01", "US"): 1.8}


# ─── warehouses (Shopify locations of the inventory shop) ───────────────────────────────────────
@dataclass(frozen=True)
class WarehouseSpec:
    warehouse_id: str
    name: str
    kind: str
    market: str
    place: Place
    province_code: str | None
    address1: str
    zip: str


WAREHOUSES = (
    WarehouseSpec("CN-SZ-DC", "Shenzhen consolidation centre", "domestic", "CN",
                  Place("Shenzhen consolidation centre", "Shenzhen", "Guangdong", "CN", 22.656, 114.030,
                        "Asia/Shanghai"), "GD", "Bldg 3, 88 Minzhi Avenue, Longhua District", "518131"),
    WarehouseSpec("US-WEST-LA", "US West warehouse (Ontario, CA)", "overseas", "US",
                  Place("US West warehouse", "Ontario", "CA", "US", 34.063, -117.650, "America/Los_Angeles"),
                  "CA", "4200 E Airport Dr", "91761"),
    WarehouseSpec("US-EAST-NJ", "US East warehouse (Edison, NJ)", "overseas", "US",
                  Place("US East warehouse", "Edison", "NJ", "US", 40.518, -74.412, "America/New_York"),
                  "NJ", "300 Mill Rd", "08817"),
    WarehouseSpec("EU-3PL-DE", "EU 3PL fulfilment (Duisburg)", "3pl", "DE",
                  Place("EU 3PL fulfilment centre", "Duisburg", "NW", "DE", 51.434, 6.762, "Europe/Berlin"),
                  None, "Hafenstrasse 20", "47119"),
)
WAREHOUSE_BY_ID = {w.warehouse_id: w for w in WAREHOUSES}


# ─── nodes: ports, airports and hubs goods pass (UN/LOCODE ids) ─────────────────────────────────
@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    name: str
    kind: str
    place: Place


def _node(node_id, name, kind, city, state, country, lat, lon, tz):
    return NodeSpec(node_id, name, kind, Place(name, city, state, country, lat, lon, tz))


NODES = (
    _node("VNHPH", "Port of Haiphong (Lach Huyen)", "port", "Haiphong", None, "VN", 20.865, 106.683,
          "Asia/Ho_Chi_Minh"),
    _node("VNDDG", "Huu Nghi border gate (Dong Dang)", "hub", "Dong Dang", "Lang Son", "VN", 21.973, 106.706,
          "Asia/Ho_Chi_Minh"),
    _node("CNSZX", "Port of Shenzhen (Shekou)", "port", "Shenzhen", "Guangdong", "CN", 22.478, 113.905,
          "Asia/Shanghai"),
    _node("CNYTN", "Yantian International Container Terminals", "port", "Shenzhen", "Guangdong", "CN",
          22.575, 114.270, "Asia/Shanghai"),
    _node("CNPVG", "Shanghai Pudong International Airport", "airport", "Shanghai", None, "CN", 31.144, 121.808,
          "Asia/Shanghai"),
    _node("HKHKG", "Hong Kong International Airport", "airport", "Hong Kong", None, "HK", 22.308, 113.918,
          "Asia/Hong_Kong"),
    _node("USLAX", "Port of Los Angeles", "port", "Los Angeles", "CA", "US", 33.740, -118.265,
          "America/Los_Angeles"),
    _node("USLGB", "Port of Long Beach", "port", "Long Beach", "CA", "US", 33.754, -118.216,
          "America/Los_Angeles"),
    _node("USNYC", "Port of New York and New Jersey (Port Newark)", "port", "Newark", "NJ", "US", 40.684,
          -74.150, "America/New_York"),
    _node("USJFK", "John F. Kennedy International Airport", "airport", "New York", "NY", "US", 40.641, -73.778,
          "America/New_York"),
    _node("USEWR", "Newark Liberty International Airport", "airport", "Newark", "NJ", "US", 40.690, -74.174,
          "America/New_York"),
    _node("NLRTM", "Port of Rotterdam (Maasvlakte)", "port", "Rotterdam", None, "NL", 51.948, 4.142,
          "Europe/Amsterdam"),
    _node("DEFRA", "Frankfurt Airport", "airport", "Frankfurt am Main", "HE", "DE", 50.038, 8.562,
          "Europe/Berlin"),
    _node("USONT", "Ontario regional sort hub", "hub", "Ontario", "CA", "US", 34.056, -117.601,
          "America/Los_Angeles"),
    _node("USSDF", "Louisville air hub (Worldport)", "hub", "Louisville", "KY", "US", 38.174, -85.736,
          "America/Kentucky/Louisville"),
    _node("USMEM", "Memphis air hub", "hub", "Memphis", "TN", "US", 35.042, -89.977, "America/Chicago"),
    _node("DELEJ", "Leipzig/Halle air hub", "hub", "Leipzig", "SN", "DE", 51.424, 12.236, "Europe/Berlin"),
)
NODE_BY_ID = {n.node_id: n for n in NODES}
CONGESTION_PORTS = ("CNYTN", "CNSZX")   # "Shenzhen port congested" scenario


# ─── markets, customer cities, merchants, channels ──────────────────────────────────────────────
@dataclass(frozen=True)
class City:
    place: Place
    weight: float
    region: str                  # west | east (US/CA: picks the nearer warehouse) | eu


def _city(city, state, country, lat, lon, tz, weight, region):
    return City(Place(city, city, state, country, lat, lon, tz), weight, region)


MARKETS = {
    # market: (share of orders, demand-curve zone, cities)
    "US": (0.52, "America/Chicago", (
        _city("Los Angeles", "CA", "US", 34.052, -118.244, "America/Los_Angeles", 10, "west"),
        _city("San Francisco", "CA", "US", 37.775, -122.419, "America/Los_Angeles", 5, "west"),
        _city("Seattle", "WA", "US", 47.606, -122.332, "America/Los_Angeles", 4, "west"),
        _city("Portland", "OR", "US", 45.515, -122.679, "America/Los_Angeles", 3, "west"),
        _city("Denver", "CO", "US", 39.739, -104.990, "America/Denver", 3, "west"),
        _city("Phoenix", "AZ", "US", 33.448, -112.074, "America/Phoenix", 3, "west"),
        _city("Austin", "TX", "US", 30.267, -97.743, "America/Chicago", 4, "east"),
        _city("Chicago", "IL", "US", 41.878, -87.630, "America/Chicago", 6, "east"),
        _city("New York", "NY", "US", 40.713, -74.006, "America/New_York", 12, "east"),
        _city("Boston", "MA", "US", 42.360, -71.059, "America/New_York", 4, "east"),
        _city("Philadelphia", "PA", "US", 39.953, -75.165, "America/New_York", 4, "east"),
        _city("Atlanta", "GA", "US", 33.749, -84.388, "America/New_York", 4, "east"),
        _city("Miami", "FL", "US", 25.762, -80.192, "America/New_York", 4, "east"),
    )),
    "CA": (0.08, "America/Toronto", (
        _city("Toronto", "ON", "CA", 43.653, -79.383, "America/Toronto", 6, "east"),
        _city("Montreal", "QC", "CA", 45.502, -73.567, "America/Toronto", 4, "east"),
        _city("Vancouver", "BC", "CA", 49.283, -123.121, "America/Vancouver", 4, "west"),
        _city("Calgary", "AB", "CA", 51.045, -114.072, "America/Edmonton", 2, "west"),
    )),
    "DE": (0.13, "Europe/Berlin", (
        _city("Berlin", "BE", "DE", 52.520, 13.405, "Europe/Berlin", 5, "eu"),
        _city("Hamburg", "HH", "DE", 53.551, 9.994, "Europe/Berlin", 3, "eu"),
        _city("Munich", "BY", "DE", 48.135, 11.582, "Europe/Berlin", 3, "eu"),
        _city("Cologne", "NW", "DE", 50.938, 6.960, "Europe/Berlin", 2, "eu"),
        _city("Frankfurt am Main", "HE", "DE", 50.110, 8.682, "Europe/Berlin", 2, "eu"),
    )),
    "FR": (0.09, "Europe/Paris", (
        _city("Paris", None, "FR", 48.857, 2.352, "Europe/Paris", 6, "eu"),
        _city("Lyon", None, "FR", 45.764, 4.836, "Europe/Paris", 2, "eu"),
        _city("Marseille", None, "FR", 43.296, 5.370, "Europe/Paris", 2, "eu"),
        _city("Bordeaux", None, "FR", 44.838, -0.579, "Europe/Paris", 1, "eu"),
    )),
    "GB": (0.11, "Europe/London", (
        _city("London", None, "GB", 51.507, -0.128, "Europe/London", 7, "eu"),
        _city("Manchester", None, "GB", 53.481, -2.243, "Europe/London", 2, "eu"),
        _city("Bristol", None, "GB", 51.455, -2.588, "Europe/London", 1, "eu"),
        _city("Edinburgh", None, "GB", 55.953, -3.188, "Europe/London", 1, "eu"),
    )),
    "ES": (0.07, "Europe/Madrid", (
        _city("Madrid", None, "ES", 40.417, -3.704, "Europe/Madrid", 4, "eu"),
        _city("Barcelona", None, "ES", 41.385, 2.173, "Europe/Madrid", 3, "eu"),
        _city("Valencia", None, "ES", 39.470, -0.376, "Europe/Madrid", 1, "eu"),
        _city("Seville", None, "ES", 37.389, -5.984, "Europe/Madrid", 1, "eu"),
    )),
}
BASE_ORDERS_PER_DAY = 420          # across all shops and markets, outside promotions

# Share of hourly demand by local hour of day (evening peak); normalised in world.py.
DAILY_CURVE = (0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.4,
               1.5, 1.4, 1.3, 1.3, 1.4, 1.5, 1.7, 1.9, 2.0, 1.8, 1.3, 0.8)

# Fulfilment preference: region → warehouses tried in order (CN-SZ ships cross-border as a last resort).
FULFILMENT = {
    "west": ("US-WEST-LA", "US-EAST-NJ", "CN-SZ-DC"),
    "east": ("US-EAST-NJ", "US-WEST-LA", "CN-SZ-DC"),
    "eu": ("EU-3PL-DE", "CN-SZ-DC"),
}


@dataclass(frozen=True)
class MerchantSpec:
    shop: str
    name: str
    kind: str
    currency: str
    shop_id: int
    fx: float                                  # price multiplier from USD list prices
    channels: tuple[tuple[str, float], ...]


MERCHANTS = (
    MerchantSpec("green-living", "Green Living", "own_store", "USD", 60123456789, 1.0,
                 (("web", 0.55), ("tiktok", 0.25), ("marketplace", 0.15), ("pos", 0.05))),
    MerchantSpec("nordic-nest", "Nordic Nest", "s2b2c_merchant", "EUR", 60234567891, 0.93,
                 (("web", 0.6), ("marketplace", 0.3), ("tiktok", 0.1))),
    MerchantSpec("casa-verde", "Casa Verde", "s2b2c_merchant", "EUR", 60345678912, 0.93,
                 (("web", 0.55), ("marketplace", 0.35), ("tiktok", 0.1))),
)
MERCHANT_BY_SHOP = {m.shop: m for m in MERCHANTS}
# Which merchants sell into a market, with their share of its orders.
MERCHANT_MIX = {
    "US": (("green-living", 1.0),),
    "CA": (("green-living", 1.0),),
    "GB": (("green-living", 0.6), ("nordic-nest", 0.4)),
    "DE": (("nordic-nest", 0.55), ("green-living", 0.25), ("casa-verde", 0.2)),
    "FR": (("casa-verde", 0.5), ("nordic-nest", 0.35), ("green-living", 0.15)),
    "ES": (("casa-verde", 0.8), ("green-living", 0.2)),
}


# ─── last-mile carriers: (slug, display name, tracking-number style, share) per origin → market ──
CARRIERS = {
    ("US", "US"): (("ups", "UPS", "ups", 0.4), ("fedex", "FedEx", "fedex", 0.3), ("usps", "USPS", "usps", 0.3)),
    ("US", "CA"): (("canada-post", "Canada Post", "canada-post", 0.6), ("ups", "UPS", "ups", 0.4)),
    ("EU", "DE"): (("dhl", "DHL", "dhl", 0.7), ("dpd", "DPD", "dpd", 0.3)),
    ("EU", "FR"): (("colissimo", "Colissimo", "colissimo", 0.7), ("dhl", "DHL", "dhl", 0.3)),
    ("EU", "GB"): (("royal-mail", "Royal Mail", "royal-mail", 0.7), ("dhl", "DHL", "dhl", 0.3)),
    ("EU", "ES"): (("dhl", "DHL", "dhl", 0.6), ("dpd", "DPD", "dpd", 0.4)),
    ("CN", "*"): (("yunexpress", "YunExpress", "yunexpress", 0.6), ("dhl", "DHL Express", "dhl", 0.4)),
}
# Sort hub a parcel passes on its way into a market/region.
LAST_MILE_HUB = {
    ("US", "west"): "USONT", ("US", "east"): "USSDF", ("CA", "west"): "USONT", ("CA", "east"): "USSDF",
    ("DE", "eu"): "DELEJ", ("FR", "eu"): "DELEJ", ("GB", "eu"): "DELEJ", ("ES", "eu"): "DELEJ",
}

# Inbound freight carriers by mode: (slug, share)
FREIGHT = {
    "sea": (("maersk", 0.55), ("cosco", 0.45)),
    "air": (("dhl-global-forwarding", 1.0),),
    "truck": (("fedex-freight", 1.0),),
    "truck_cn": (("sf-express", 1.0),),
}

RETURN_REASONS = (("changed_mind", 30), ("damaged", 20), ("not_as_described", 15), ("wrong_item", 12),
                  ("too_small", 10), ("late_delivery", 5))

NPS_COMMENTS = {
    "promoter": ("Beautiful bowls, arrived quickly.", "Love the quality, will buy again!",
                 "Great eco alternative to plastic.", "Fast shipping and nicely packed.", ""),
    "passive": ("Nice products, delivery was okay.", "Good, but the packaging could be greener.",
                "Decent quality for the price.", ""),
    "detractor": ("Package arrived late.", "Took far too long to arrive.", "One plate was cracked.",
                  "Wrong item in the box.", "No updates on my delivery for days."),
}

CSAT_COMMENTS = {
    "satisfied": ("Arrived on time and well packed.", "Exactly as pictured, thank you!",
                  "Smooth delivery.", ""),
    "neutral": ("Fine, but delivery took a while.", "Okay overall.", ""),
    "unsatisfied": ("Delivery was late.", "Item arrived damaged.", "Not what I ordered.",
                    "Tracking never updated."),
}

FIRST_NAMES = ("emma", "liam", "olivia", "noah", "mia", "lucas", "sofia", "leon", "chloe", "mateo",
               "hannah", "jack", "lea", "hugo", "amelia", "pablo", "lena", "oscar", "isla", "marta")
LAST_NAMES = ("smith", "garcia", "muller", "martin", "brown", "schmidt", "dubois", "lopez", "wilson",
              "fischer", "moreau", "taylor", "wagner", "fernandez", "clarke", "nguyen")
