"""The sandbox world: a deterministic simulation of the "Green Living" supply chain (DESIGN §1).

How it works
- Time advances in fixed steps (`STEP`, 5 sim-minutes) on a grid anchored at `start` (= anchor −
  history). A step runs only once it has fully passed (`step end <= now`), so every record it makes is
  in the past; "as of now" views show exactly what the completed steps made (cut `c` = the grid point
  at or before now). Before `start`, a coarse warm-up (1-hour steps, no customer orders) builds the
  purchase-order pipeline and the stock levels the history starts from.
- Each step draws from its own seeded RNG stream; entities with a planned future (trackings, returns,
  NPS answers, PO production) use streams keyed by their own id. Same seed + same clock readings →
  the same records, however often and in whatever order the views are asked for.
- Entities keep version lists (times of change) and views bisect them, so a view at any past instant
  is cheap and independent of how far the simulation has run. Rendered records are memoised per
  entity version.
- Shipments are planned when created (checkpoints, ETA revisions) against the scenario calendar; when
  scenarios switch (`set_scenarios`) the plans of shipments still moving are redone from the switch
  instant on, and everything before it stays as it was.

The class is split by concern: sandbox/world_demand.py, world_shipping.py, world_supply.py,
world_aftercare.py, world_actions.py (writes through the supplier, forwarder and WMS APIs, issue 13)
and world_storefront.py (the shop's writes, issue 13) hold its mixins; sandbox/sim.py and
sandbox/routes.py the shared pieces."""
from __future__ import annotations

import bisect
import heapq
import math
import threading
from datetime import UTC, datetime, timedelta

from sandbox import catalog as cat
from sandbox.model import (
    Forecast,
    InventoryLevel,
    Merchant,
    Node,
    NpsResponse,
    PromotionEvent,
    ScenarioWindow,
    Sku,
    StockPolicy,
    Supplier,
    SurveyResponse,
    Warehouse,
)
from sandbox.routes import _inbound_route, _route_mean_days
from sandbox.scenarios import Calendar, scenario_windows  # noqa: F401  (re-exported for callers)
from sandbox.sim import (
    STEP,
    WARMUP,
    WARMUP_STEP,
    PLAN_EVERY_H,
    H,
    EXPECTED_UNITS_PER_ORDER,
    _rng,
    _Track,
    _Order,
    _Po,
    _Return,
    _cumulative,
    _floor_hour,
)
from sandbox.world_actions import Actions
from sandbox.world_aftercare import Aftercare
from sandbox.world_demand import Demand
from sandbox.world_ocean import Ocean
from sandbox.world_shipping import Shipping
from sandbox.world_storefront import Storefront
from sandbox.world_supply import Supply
from tower.clock import utc


class World(Actions, Storefront, Demand, Shipping, Supply, Aftercare, Ocean):
    """The simulated supply chain; see the module doc and sandbox/README.md (World API)."""

    def __init__(self, seed: int, clock, history_days: float = 7,
                 scenarios: list[ScenarioWindow] | None = None):
        self.seed = int(seed)
        self.clock = clock
        self.anchor = utc(clock.now())
        epoch_steps = math.floor((self.anchor - timedelta(days=history_days)).timestamp() / STEP.total_seconds())
        self.start = datetime.fromtimestamp(epoch_steps * STEP.total_seconds(), UTC)
        self.history_days = history_days
        self._lock = threading.RLock()
        self.calendar = Calendar.of(scenarios, self.start)
        self._switches: list[datetime] = []           # instants when scenarios were switched
        self._build_reference()
        # state
        self._stock: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        self._inv_times: dict[tuple[str, str], list] = {}
        self._inv_values: dict[tuple[str, str], list] = {}
        self._queue: list = []                        # (time, seq, kind, obj, rev)
        self._seq = 0
        self._orders: list[_Order] = []
        self._orders_by_shop: dict[str, tuple[list, list]] = {m.shop: ([], []) for m in cat.MERCHANTS}
        self._order_seq = 0
        self._line_seq = 0
        self._shop_numbers = {m.shop: 1000 for m in cat.MERCHANTS}
        self._track_keys: list = []                   # (created_at, seq) ascending
        self._tracks: list[_Track] = []
        self._moving: list[_Track] = []               # trackings whose plan still has future checkpoints
        self._pos: list[_Po] = []
        self._po_seq = 0
        self._open_pos: list[_Po] = []
        self._returns_keys: list = []
        self._returns: list[_Return] = []
        self._nps_keys: list = []
        self._nps: list[NpsResponse] = []
        self._nps_seq = 0
        self._csat_keys: list = []                    # (created_at, seq) ascending
        self._csat: list[SurveyResponse] = []
        self._csat_seq = 0
        self._lost: list[tuple[datetime, str, str, int]] = []   # (time, sku, market, units) not served
        self._cache: dict = {}
        self._day_factors: dict[tuple[str, str], float] = {}
        self._forecast_hours: dict[datetime, list[Forecast]] = {}
        self.initial_stock: dict[tuple[str, str], int] = {}
        self._init_actions()                          # POs, bookings, transfers written through the APIs
        self._init_storefront()                       # promises, discounts, backorders (issue 13)
        self._warm_up()
        self._t = self.start                          # simulated up to here (a grid point)
        self._advance(self._cut(self.anchor))

    def _build_reference(self) -> None:
        s0 = self.start
        self.merchants = [Merchant(m.shop, m.name, m.kind, m.currency, m.shop_id) for m in cat.MERCHANTS]
        self.suppliers = [Supplier(s.code, s.name, s.tier, s.place.country, s.place.city, s.place.lat, s.place.lon,
                                   s.lead_time_days, s.capacity_per_day, s0) for s in cat.SUPPLIERS]
        self.skus = [Sku(s.sku, s.name, s.sku_class, s.unit_cost, s.unit_price, 8_012_345_600_000 + i * 1013,
                         44_123_456_700_000 + i * 1009, 46_234_567_800_000 + i * 1019, s0 - timedelta(days=400), s0)
                     for i, s in enumerate(cat.SKUS)]
        self._sku = {s.sku: s for s in self.skus}
        self._sku_spec = {s.sku: s for s in cat.SKUS}
        self.warehouses = [Warehouse(w.warehouse_id, 71_234_567_890 + i * 1117, w.name, w.kind, w.market,
                                     w.place.country, w.province_code, w.place.city, w.address1, w.zip,
                                     w.place.lat, w.place.lon, s0 - timedelta(days=400), s0)
                           for i, w in enumerate(cat.WAREHOUSES)]
        self._location = {w.warehouse_id: w.location_id for w in self.warehouses}
        self._keys = [(s.sku, w.warehouse_id) for s in cat.SKUS for w in cat.WAREHOUSES]
        # Actual line mix per market (the forecast uses the catalog weights; trending skus sell more).
        self._boosted_cum: dict[tuple, list[float]] = {}
        self._sku_cum = {m: list(_cumulative(s.weight * cat.TRENDING.get((s.sku, m), 1.0) for s in cat.SKUS))
                         for m in cat.MARKETS}
        curve_total = sum(cat.DAILY_CURVE)
        self._curve = [c * 24 / curve_total for c in cat.DAILY_CURVE]   # mean 1.0 over a day
        # Expected daily units per sku×warehouse (no promotions): forecast share routed to each warehouse.
        share_total = sum(weight for weight, _, _ in cat.MARKETS.values())
        # `_daily` is what planning expects (forecast mix); `_actual_daily` what the warm-up consumes.
        self._daily: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        self._actual_daily: dict[tuple[str, str], float] = {k: 0.0 for k in self._keys}
        weight_total = sum(s.weight for s in cat.SKUS)
        for market, (share, _, cities) in cat.MARKETS.items():
            orders = cat.BASE_ORDERS_PER_DAY * share / share_total
            city_total = sum(c.weight for c in cities)
            actual_total = self._sku_cum[market][-1]
            for city in cities:
                wh = cat.FULFILMENT[city.region][0]
                units = orders * city.weight / city_total * EXPECTED_UNITS_PER_ORDER
                for s in cat.SKUS:
                    self._daily[(s.sku, wh)] += units * s.weight / weight_total
                    self._actual_daily[(s.sku, wh)] += (units * s.weight * cat.TRENDING.get((s.sku, market), 1.0)
                                                        / actual_total)
        for s in cat.SKUS:   # the cross-border fallback keeps a small buffer: 3 % of the sku's demand
            self._daily[(s.sku, "CN-SZ-DC")] = 0.03 * sum(self._daily[(s.sku, w.warehouse_id)]
                                                         for w in cat.WAREHOUSES)
            self._actual_daily[(s.sku, "CN-SZ-DC")] = 0.0
        self._market_orders = {m: cat.BASE_ORDERS_PER_DAY * share / share_total
                               for m, (share, _, _) in cat.MARKETS.items()}
        # Routes, lead times and tier shares per destination.
        self._routes = {}
        for sup in cat.SUPPLIERS:
            for w in cat.WAREHOUSES:
                route = _inbound_route(sup, w.warehouse_id)
                if route:
                    self._routes[(sup.code, w.warehouse_id)] = route
        self._tiers: dict[str, list[tuple[cat.SupplierSpec, float]]] = {}
        self._lead: dict[str, float] = {}
        for w in cat.WAREHOUSES:
            serving = [s for s in cat.SUPPLIERS if (s.code, w.warehouse_id) in self._routes]
            total = sum(s.share for s in serving)
            self._tiers[w.warehouse_id] = [(s, s.share / total) for s in serving]
            self._lead[w.warehouse_id] = sum(
                share * (s.lead_time_days + _route_mean_days(self._routes[(s.code, w.warehouse_id)][2]))
                for s, share in self._tiers[w.warehouse_id])
        self._policies = {}
        for sku, wh in self._keys:
            cover = cat.COVER_DAYS_BY_SKU.get(sku, cat.COVER_DAYS[self._sku_spec[sku].sku_class])
            d = self._daily[(sku, wh)]
            safety = max(3, round(d * cover / 3))
            self._policies[(sku, wh)] = (safety, max(safety + 1, round(safety * 1.5)), max(1, round(safety * 0.3)))

    def _cut(self, now: datetime) -> datetime:
        """The grid point at or before `now`: what the completed steps show."""
        now = utc(now)
        if now <= self.start:
            return self.start
        steps = (now - self.start) // STEP
        return self.start + steps * STEP

    def _advance(self, c: datetime) -> None:
        while self._t < c:
            self._step(self._t, STEP, warm=False)
            self._t += STEP

    def _view(self, name: str, now: datetime, arg=None):
        """(cut, cached result or None) for a view; advances the simulation to the cut."""
        c = self._cut(now)
        self._advance(c)
        return c, self._cache.get((name, c, arg))

    def _remember(self, name: str, c: datetime, arg, value):
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[(name, c, arg)] = value
        return value

    def _warm_up(self) -> None:
        for key in self._keys:
            sku, wh = key
            cover = cat.COVER_DAYS_BY_SKU.get(sku, cat.COVER_DAYS[self._sku_spec[sku].sku_class])
            jitter = _rng(self.seed, "init", sku, wh).uniform(0.85, 1.15)
            self._stock[key] = self._daily[key] * (self._lead[wh] + 0.6 * cover) * jitter
        t = _floor_hour(self.start - WARMUP)
        while t < self.start:
            dt = min(WARMUP_STEP, self.start - t)
            self._step(t, dt, warm=True)
            t += dt
        for key in self._keys:
            value = max(0, round(self._stock[key]))
            self._stock[key] = value
            self.initial_stock[key] = value
            self._inv_times[key] = [self.start]
            self._inv_values[key] = [value]

    def _step(self, t: datetime, dt: timedelta, warm: bool) -> None:
        end = t + dt
        rng = _rng(self.seed, "step", int(t.timestamp()))
        happenings: list = []                          # (time, seq, kind, payload) inside the step
        while self._queue and self._queue[0][0] < end:
            when, seq, kind, obj, rev = heapq.heappop(self._queue)
            if obj.rev == rev:
                happenings.append((when, seq, kind, obj))
        if warm:
            hours = dt / H
            for key in self._keys:
                self._stock[key] = max(0.0, self._stock[key] - self._actual_daily[key] * hours / 24)
        else:
            for when, demand in self._demand(t, dt, rng):
                self._seq += 1
                happenings.append((when, self._seq, "demand", demand))
        happenings.sort(key=lambda h: (h[0], h[1]))
        for when, _, kind, obj in happenings:
            if kind == "arrive":
                self._arrive(obj, when, warm)
            elif kind == "delivered":
                self._after_delivery(obj)
            else:
                self._place_order(when, obj)
        self._produce(t, dt)
        self._reports(t, end)
        if (t.hour % PLAN_EVERY_H == 2) and t.minute == 0:
            self._replenish(t, rng)

    def _push(self, when: datetime, kind: str, obj) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, kind, obj, obj.rev))

    def _set_stock(self, key, value: int, when: datetime, warm: bool) -> None:
        self._stock[key] = value
        if warm:
            return
        times, values = self._inv_times[key], self._inv_values[key]
        if times[-1] == when:
            values[-1] = value
        else:
            times.append(when)
            values.append(value)

    def _insert(self, keys: list, items: list, when: datetime, item) -> None:
        self._seq += 1
        key = (when, self._seq)
        i = bisect.bisect_right(keys, key)
        keys.insert(i, key)
        items.insert(i, item)

    def inventory_levels(self, now: datetime) -> list[InventoryLevel]:
        with self._lock:
            c, hit = self._view("inv", now)
            if hit is not None:
                return hit
            out = []
            for sku, wh in self._keys:
                times, values = self._inv_times[(sku, wh)], self._inv_values[(sku, wh)]
                i = bisect.bisect_left(times, c) - 1
                i = max(i, 0)
                out.append(InventoryLevel(self._sku[sku].inventory_item_id, self._location[wh], sku, values[i],
                                          times[i]))
            return self._remember("inv", c, None, out)

    def stock_policies(self, now: datetime) -> list[StockPolicy]:
        return [StockPolicy(sku, wh, safety, warning, limit, self.start)
                for (sku, wh), (safety, warning, limit) in self._policies.items()]

    def nodes(self, now: datetime) -> list[Node]:
        with self._lock:
            c = self._cut(now)
            out = []
            for n in cat.NODES:
                status, updated = "normal", self.start
                for when, new in self.calendar.congestion_changes(n.node_id):
                    if when < c:
                        status, updated = new, max(when, self.start)
                out.append(Node(n.node_id, n.name, n.kind, n.place.country, n.place.lat, n.place.lon, status,
                                updated))
            return out

    def events(self, now: datetime) -> list[PromotionEvent]:
        with self._lock:
            c = self._cut(now)
            return [e for e in self.calendar.events(c) if e.updated_at <= c]

    def lost_sales(self, now: datetime) -> list[tuple[datetime, str, str, int]]:
        """Demand nobody could serve (time, sku, market, units): what a stockout cost."""
        with self._lock:
            c, _ = self._view("lost", now)
            return [x for x in self._lost if x[0] < c]

    def set_scenarios(self, windows: list[ScenarioWindow]) -> None:
        """Switch scenarios from now on: simulated time before now stays exactly as it was."""
        with self._lock:
            cut = max(utc(self.clock.now()), self._t)
            self.calendar = self.calendar.switched(list(windows), cut)
            self._switches.append(cut)
            self._forecast_hours = {h: rows for h, rows in self._forecast_hours.items() if h < cut}
            self._cache.clear()
            self._replan_moving(cut)
