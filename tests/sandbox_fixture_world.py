"""A small hand-made world with the `sandbox.world.World` API, for server tests that must not depend
on the simulation: every record is fixed in advance and "as of now" simply hides what has not
happened yet (created or updated after `now`), so tests know exactly what the server should serve."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.model import (
    Checkpoint,
    Forecast,
    Fulfillment,
    InventoryLevel,
    Merchant,
    NpsResponse,
    Node,
    Order,
    OrderLine,
    PromotionEvent,
    PurchaseOrder,
    Return,
    ReturnItem,
    Sku,
    StockPolicy,
    Supplier,
    Tracking,
    Warehouse,
)

TAGS = ["InfoReceived", "InTransit", "OutForDelivery", "Delivered", "Exception"]


class FixtureWorld:
    def __init__(self, start: datetime, *, trackings: int = 40, orders_per_shop: int = 45, seed: int = 1):
        rng = random.Random(seed)
        self.start = start
        self.scenarios = []
        t0 = start - timedelta(days=2)
        self.merchants = [
            Merchant("green-living", "Green Living", "own_store", "USD", 1001),
            Merchant("nordic-nest", "Nordic Nest", "s2b2c_merchant", "SEK", 1002),
        ]
        self.suppliers = [
            Supplier(
                "VN-BAMBOO-01", "Hanoi Bamboo Works", "primary", "VN", "Hanoi", 21.03, 105.85, 21, 4000, t0
            ),
            Supplier("ZJ-BAMBOO-02", "Anji Bamboo Co", "backup", "CN", "Anji", 30.63, 119.68, 14, 1500, t0),
            Supplier(
                "PRINT3D-LA", "LA Print Farm", "emergency", "US", "Los Angeles", 34.05, -118.24, 3, 200, t0
            ),
        ]
        self.skus = [
            Sku(
                f"GL-SKU-{i:02d}",
                f"Bamboo item {i}",
                ("core", "potential", "long_tail")[i % 3],
                1.5 + i / 10,
                9.9 + i,
                7000 + i,
                8000 + i,
                9000 + i,
                t0,
                t0 + timedelta(minutes=i),
            )
            for i in range(1, 8)
        ]
        self.warehouses = [
            Warehouse(
                "US-WEST-LA",
                501,
                "US West (Los Angeles)",
                "overseas",
                "US",
                "US",
                "CA",
                "Los Angeles",
                "100 Harbor Way",
                "90021",
                34.02,
                -118.23,
                t0,
                t0,
            ),
            Warehouse(
                "US-EAST-NJ",
                502,
                "US East (Newark)",
                "overseas",
                "US",
                "US",
                "NJ",
                "Newark",
                "5 Port St",
                "07114",
                40.70,
                -74.17,
                t0,
                t0,
            ),
        ]
        self._levels = [
            InventoryLevel(
                s.inventory_item_id,
                w.location_id,
                s.sku,
                100 + 7 * i + j,
                t0 + timedelta(minutes=13 * i + 5 * j),
            )
            for i, s in enumerate(self.skus)
            for j, w in enumerate(self.warehouses)
        ]
        self._orders: list[Order] = []
        order_id = 50_000
        for shop in self.merchants:
            for n in range(orders_per_shop):
                order_id += 1
                created = t0 + timedelta(minutes=41 * n + (7 if shop.shop == "nordic-nest" else 0))
                sku = self.skus[n % len(self.skus)]
                qty = 1 + n % 3
                fulfilled = n % 2 == 0
                fulfillments = ()
                if fulfilled:
                    fulfillments = (
                        Fulfillment(
                            order_id * 10,
                            501,
                            f"1Z{order_id:010d}",
                            "UPS",
                            created + timedelta(hours=3),
                            "delivered" if n % 4 == 0 else "in_transit",
                            created + timedelta(hours=5),
                        ),
                    )
                self._orders.append(
                    Order(
                        order_id,
                        shop.shop,
                        1000 + n + 1,
                        f"#{1000 + n + 1}",
                        created,
                        created + timedelta(hours=5 if fulfilled else 1),
                        shop.currency,
                        ("web", "tiktok", "marketplace")[n % 3],
                        ("US", "SE", "DE")[n % 3],
                        "Springfield",
                        f"buyer.{n}@example.com",
                        (
                            OrderLine(
                                order_id * 10 + 1,
                                sku.sku,
                                sku.variant_id,
                                sku.product_id,
                                sku.name,
                                qty,
                                sku.unit_price,
                            ),
                        ),
                        sku.unit_price * qty,
                        4.99,
                        6.10,
                        sku.unit_price * qty + 4.99,
                        created + timedelta(days=4),
                        501,
                        "paid",
                        "fulfilled" if fulfilled else None,
                        created + timedelta(minutes=30) if n % 15 == 14 else None,
                        fulfillments,
                    )
                )
        self._trackings = []
        for i in range(trackings):
            created = t0 + timedelta(minutes=53 * i)
            n_cp = 1 + i % 4
            cps = tuple(
                Checkpoint(
                    (created + timedelta(hours=6 * k)).replace(tzinfo=None)
                    + timedelta(hours=8),  # local UTC+8
                    None if (i + k) % 3 == 0 else 480,
                    created + timedelta(hours=6 * k, minutes=2),
                    f"Hub {k}",
                    "Shenzhen",
                    None,
                    "CN",
                    None if k % 2 else 22.54 + k / 100,
                    None if k % 2 else 114.06,
                    f"Scan {k}",
                    TAGS[min(k, 3)],
                    f"{TAGS[min(k, 3)]}_001",
                )
                for k in range(n_cp)
            )
            tag = cps[-1].tag
            inbound = i % 2 == 0
            self._trackings.append(
                Tracking(
                    id=f"{i:032x}",
                    tracking_number=f"TRK{i:08d}",
                    slug=("cosco", "ups", "dhl")[i % 3],
                    mode=("sea", "express", "air")[i % 3],
                    direction="inbound" if inbound else "outbound",
                    order_id=None if inbound else 50_001 + i,
                    order_number=None if inbound else f"#{1001 + i}",
                    shop=None if inbound else "green-living",
                    po_number=f"PO-{i:04d}" if inbound else None,
                    warehouse_id="US-WEST-LA",
                    origin_country="CN",
                    origin_city="Shenzhen",
                    destination_country="US",
                    destination_city="Los Angeles",
                    destination_lat=34.0,
                    destination_lon=-118.2,
                    origin_lat=22.5,
                    origin_lon=114.1,
                    created_at=created,
                    updated_at=cps[-1].created_at,
                    tag=tag,
                    subtag=f"{tag}_001",
                    subtag_message=tag,
                    courier_estimated_delivery=created + timedelta(days=5) if i % 2 else None,
                    order_promised_delivery=created + timedelta(days=4) if not inbound else None,
                    shipment_pickup_date=created + timedelta(hours=1),
                    shipment_delivery_date=cps[-1].created_at if tag == "Delivered" else None,
                    checkpoints=cps,
                )
            )
        self._pos = [
            PurchaseOrder(
                f"PO-2026-{i:04d}",
                self.suppliers[i % 3].code,
                self.skus[i % 7].sku,
                "US-WEST-LA",
                1000 + 100 * i,
                1.85,
                t0 - timedelta(days=5),
                t0 + timedelta(days=10),
                100 * i,
                90 * i,
                0,
                "in_production",
                t0 + timedelta(minutes=37 * i),
            )
            for i in range(1, 24)
        ]
        self._returns = [
            Return(
                f"RMA{i:05d}",
                o.order_id,
                o.name,
                o.shop,
                o.market,
                (ReturnItem(o.lines[0].sku, 1, ("damaged", "wrong_item", "changed_mind")[i % 3]),),
                o.created_at + timedelta(hours=20),
                o.created_at + timedelta(hours=26),
                ("submitted", "approved", "done")[i % 3],
                o.created_at + timedelta(hours=26) if i % 3 == 2 else None,
                o.lines[0].price,
                o.currency,
            )
            for i, o in enumerate(self._orders[::4])
        ]
        self._nps = [
            NpsResponse(
                9000 + i,
                o.order_id,
                o.name,
                o.shop,
                o.market,
                o.email,
                rng.randint(0, 10),
                "" if i % 2 else "Lovely bowls",
                o.created_at + timedelta(hours=30),
                o.created_at + timedelta(hours=30 + i % 5),
            )
            for i, o in enumerate(self._orders[::2])
        ]
        self._csat = [
            NpsResponse(
                7000 + i,
                o.order_id,
                o.name,
                o.shop,
                o.market,
                o.email,
                1 + i % 5,
                "" if i % 2 else "Arrived on time",
                o.created_at + timedelta(hours=28),
                o.created_at + timedelta(hours=28),
                "csat",
            )
            for i, o in enumerate(self._orders[1::3])
        ]
        self._nodes = [
            Node("CNSZX", "Shenzhen", "port", "CN", 22.54, 114.06, "normal", t0),
            Node("USLAX", "Los Angeles", "port", "US", 33.74, -118.27, "normal", t0),
        ]
        self._forecasts = [
            Forecast(s.sku, "US", t0 + timedelta(hours=h), 2.5 + h % 3, t0)
            for s in self.skus[:2]
            for h in range(0, 96)
        ]
        self._policies = [
            StockPolicy(s.sku, w.warehouse_id, 50, 80, 20, t0) for s in self.skus for w in self.warehouses
        ]
        self._events = [
            PromotionEvent(
                "EV-MEMBER-DAY",
                "Member day",
                start + timedelta(hours=2),
                start + timedelta(hours=26),
                "promotion",
                t0,
            )
        ]

    @staticmethod
    def _seen(records, now, created="created_at"):
        return [r for r in records if getattr(r, created) <= now and r.updated_at <= now]

    def nodes(self, now):
        return self._seen(self._nodes, now, "updated_at")

    def inventory_levels(self, now):
        return self._seen(self._levels, now, "updated_at")

    def orders(self, now, shop):
        return [o for o in self._seen(self._orders, now) if o.shop == shop]

    def trackings(self, now):
        return self._seen(self._trackings, now)

    def purchase_orders(self, now):
        return self._seen(self._pos, now, "ordered_at")

    def returns(self, now):
        return self._seen(self._returns, now)

    def nps_responses(self, now):
        return self._seen(self._nps, now)

    def csat_responses(self, now):
        return self._seen(self._csat, now)

    def forecasts(self, now, start=None, end=None):
        return [f for f in self._forecasts if f.updated_at <= now
                and (start is None or f.period_start >= start) and (end is None or f.period_start < end)]

    def stock_policies(self, now):
        return self._seen(self._policies, now, "updated_at")

    def events(self, now):
        return [e for e in self._events if e.updated_at <= now]

    def set_scenarios(self, windows):
        self.scenarios = list(windows)
