"""Customer demand: hourly order rates per market, order drafting, stock allocation and
the promise shown at checkout, plus the Shopify-shaped order views and the forecasts."""
from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.model import Forecast, Fulfillment, Order, OrderLine
from sandbox.routes import SHIPMENT_STATUS
from sandbox.sim import (
    _FAR,
    PROCESSING_H,
    H,
    UNITS_PER_ORDER_LINES,
    QTY_PER_LINE,
    EXPECTED_UNITS_PER_ORDER,
    _rng,
    _poisson,
    _pick,
    _Order,
    _cumulative,
    _local_hour,
    _sec,
    _floor_hour,
    _end_of_day,
)
from tower.clock import utc


class Demand:
    """Mixin of World (sandbox/world.py): customer demand. It uses the state World.__init__ sets up."""

    def _local_hour(self, market: str, hour_start: datetime) -> int:
        return _local_hour(cat.MARKETS[market][1], hour_start)

    def _day_factor(self, market: str, day: str) -> float:
        """Day-to-day swing of a market's demand (weather, news): not in the forecast."""
        hit = self._day_factors.get((market, day))
        if hit is None:
            hit = self._day_factors[(market, day)] = _rng(self.seed, "day", market, day).uniform(0.9, 1.1)
        return hit

    def _hour_rate(self, market: str, hour_start: datetime) -> float:
        """Forecast orders per hour in a market (includes the planned promotion uplift)."""
        return (self._market_orders[market] / 24 * self._curve[self._local_hour(market, hour_start)]
                * self.calendar.planned_uplift(hour_start))

    def _demand(self, t: datetime, dt: timedelta, rng: random.Random):
        hour = t.replace(minute=0, second=0, microsecond=0)
        surprise = self.calendar.surprise(t)
        day = t.date().isoformat()
        out = []
        for market in cat.MARKETS:
            lam = self._hour_rate(market, hour) * (dt / H) * surprise * self._day_factor(market, day)
            for _ in range(_poisson(rng, lam)):
                when = t + timedelta(seconds=rng.randrange(int(dt.total_seconds())))
                out.append((when, self._draw_order(rng, market, self._line_mix(market, t))))
        return out

    def _line_mix(self, market: str, t: datetime) -> list[float]:
        """Cumulative sku weights of a market's order lines at `t`: the trending mix, with a
        scenario's hero item (member day's viral bowl) boosted while the scenario runs."""
        boost = self.calendar.sku_boost(market, t)
        if not boost:
            return self._sku_cum[market]
        key = (market, tuple(sorted(boost.items())))
        hit = self._boosted_cum.get(key)
        if hit is None:
            hit = self._boosted_cum[key] = list(_cumulative(
                s.weight * cat.TRENDING.get((s.sku, market), 1.0) * boost.get(s.sku, 1.0) for s in cat.SKUS))
        return hit

    def _draw_order(self, rng: random.Random, market: str, cum: list[float]) -> dict:
        _, _, cities = cat.MARKETS[market]
        city = rng.choices(cities, [c.weight for c in cities])[0]
        shop = _pick(rng, cat.MERCHANT_MIX[market])
        channel = _pick(rng, cat.MERCHANT_BY_SHOP[shop].channels)
        wanted: dict[str, int] = {}
        for _ in range(_pick(rng, UNITS_PER_ORDER_LINES)):
            sku = cat.SKUS[bisect.bisect_right(cum, rng.random() * cum[-1])].sku
            wanted[sku] = wanted.get(sku, 0) + _pick(rng, QTY_PER_LINE)
        return {"market": market, "city": city, "shop": shop, "channel": channel, "wanted": wanted,
                "u": [rng.random() for _ in range(8)], "first": rng.choice(cat.FIRST_NAMES),
                "last": rng.choice(cat.LAST_NAMES)}

    def _place_order(self, when: datetime, d: dict) -> None:
        wanted: dict[str, int] = self._wanted(when, d)
        if not wanted:
            return
        best, best_lines = None, {}
        for wh in cat.FULFILMENT[d["city"].region]:
            lines = {s: q for s, q in wanted.items() if self._stock[(s, wh)] >= q}
            if len(lines) > len(best_lines):
                best, best_lines = wh, lines
            if len(lines) == len(wanted):
                break
        for sku, qty in wanted.items():
            if sku not in best_lines:                 # nobody can serve it: a lost sale, never negative stock
                self._unserved(when, d, sku, qty)
        if not best_lines:
            return
        for sku, qty in best_lines.items():
            key = (sku, best)
            self._set_stock(key, int(self._stock[key]) - qty, when, warm=False)
        self._create_order(when, d, best, best_lines)

    # Hooks the storefront writes (sandbox/world_storefront.py) override; these are the plain world.
    def _wanted(self, when: datetime, d: dict) -> dict[str, int]:
        """What the buyer puts in the cart (sku -> units)."""
        return d["wanted"]

    def _unserved(self, when: datetime, d: dict, sku: str, qty: int) -> None:
        """A line no warehouse can serve: a lost sale."""
        self._lost.append((when, sku, d["market"], qty))

    def _promise_for(self, when: datetime, shop: str, skus, promised: datetime) -> datetime:
        """The checkout promise of an order (the route's usual date unless the shop shows a longer one)."""
        return promised

    def _create_order(self, when: datetime, d: dict, wh: str, lines_wanted: dict[str, int],
                      hold: list | None = None) -> _Order:
        """Create the order and hand it to the warehouse; with `hold` (a backorder) the parcel waits:
        (order, stops, u) is appended to `hold` and shipped when the goods arrive."""
        u = d["u"]
        merchant = cat.MERCHANT_BY_SHOP[d["shop"]]
        self._order_seq += 1
        n = self._order_seq
        order_id = 5_610_000_000_000 + n * 1000 + int(u[0] * 997)
        lines = []
        for sku, qty in lines_wanted.items():
            self._line_seq += 1
            spec = self._sku[sku]
            price = spec.unit_price if merchant.fx == 1.0 else round(spec.unit_price * merchant.fx) - 0.01
            lines.append(OrderLine(13_900_000_000_000 + self._line_seq * 37, sku, spec.variant_id, spec.product_id,
                                   spec.name, qty, price))
        subtotal = round(sum(line.price * line.quantity for line in lines), 2)
        free_from = 50.0 if merchant.currency == "USD" else 45.0
        shipping_price = 0.0 if subtotal >= free_from else (5.95 if merchant.currency == "USD" else 4.95)
        kind = self._promise_kind(wh, d["market"], d["city"].region)
        base_cost = {"near": 6.5, "far": 9.5, "cross_border": 12.0, "china": 15.0}[kind]
        shipping_cost = round(base_cost * (0.85 + 0.3 * u[1]) * merchant.fx, 2)
        self._shop_numbers[merchant.shop] += 1
        number = self._shop_numbers[merchant.shop]
        stops = self._outbound_stops(wh, d["market"], d["city"], u)
        # The checkout promise is a date ("arrives by Fri"): the route's usual time (processing +
        # transit) plus a margin, to the end of that day. Calibrated so that a calm week is ~96 % on
        # time (a green war room) and a missed sort or a carrier exception still makes a parcel late.
        usual_h = PROCESSING_H[0] + PROCESSING_H[1] / 2 + sum((s.lo + s.hi) / 2 for s in stops)
        promised = self._promise_for(when, merchant.shop, lines_wanted,
                                     _end_of_day(when + timedelta(hours=usual_h * 1.2 + 12)))
        order = _Order(order_id, merchant.shop, number, when, merchant.currency, d["channel"], d["market"],
                       d["city"], f"{d['first']}.{d['last']}{n % 997}@example.com", tuple(lines), subtotal,
                       shipping_price, shipping_cost, promised, wh,
                       self._location[wh], 4_810_000_000_000 + n * 1000 + int(u[2] * 997))
        self._orders.append(order)
        times, orders = self._orders_by_shop[merchant.shop]
        times.append(when)
        orders.append(order)
        # Warehouse processing before the parcel is handed over.
        if hold is not None:
            hold.append((order, stops, u))
            return order
        ship_at = _sec(when + timedelta(hours=PROCESSING_H[0] + PROCESSING_H[1] * u[3]))
        self._outbound(order, ship_at, stops, u)
        return order

    def _promise_kind(self, wh: str, market: str, region: str) -> str:
        if wh == "CN-SZ-DC":
            return "china"
        if wh == "EU-3PL-DE":
            return "cross_border" if market == "GB" else ("near" if market == "DE" else "far")
        if market == "CA":
            return "cross_border"
        return "near" if cat.FULFILMENT[region][0] == wh else "far"

    def orders(self, now: datetime, shop: str | None = None) -> list[Order]:
        with self._lock:
            c, hit = self._view("orders", now, shop)
            if hit is not None:
                return hit
            shops = [shop] if shop else [m.shop for m in cat.MERCHANTS]
            out = []
            for s in shops:
                if s not in self._orders_by_shop:
                    continue
                times, orders = self._orders_by_shop[s]
                out.extend(self._order_view(o, c) for o in orders[:bisect.bisect_left(times, c)])
            if not shop:
                out.sort(key=lambda o: (o.created_at, o.order_id))
            return self._remember("orders", c, shop, out)

    def _order_view(self, o: _Order, c: datetime) -> Order:
        last = o.memo.get("last")                      # (valid from, valid until, view): the common case
        if last is not None and last[0] < c <= last[1]:
            return last[2]
        tr = o.track
        shipped = tr is not None and tr.created_at < c
        k = bisect.bisect_left(tr.cp_times, c) if shipped else 0
        r = bisect.bisect_left(o.refunds, (c,))
        key = (shipped, k, r)
        hit = o.memo.get(key)
        if hit is None:
            hit = o.memo[key] = self._render_order(o, c, shipped, k, r)
        # the view holds for cuts in (last change, next change]
        nxt = [o.refunds[r][0]] if r < len(o.refunds) else []
        if tr is not None:
            nxt.append(tr.created_at if not shipped else (tr.cp_times[k] if k < len(tr.cp_times) else _FAR))
        o.memo["last"] = (hit.updated_at, min(nxt, default=_FAR), hit)
        return hit

    def _render_order(self, o: _Order, c: datetime, shipped: bool, k: int, r: int) -> Order:
        tr = o.track
        updated = o.created_at
        fulfillments = ()
        if shipped:
            status = SHIPMENT_STATUS.get(tr.checkpoints[k - 1].tag) if k else None
            if k and tr.checkpoints[k - 1].subtag == "Exception_010":
                status = "failure"
            f_updated = tr.cp_times[k - 1] if k else tr.created_at
            fulfillments = (Fulfillment(o.fulfillment_id, o.location_id, tr.number, tr.company, tr.created_at,
                                        status, f_updated),)
            updated = max(updated, f_updated)
        refunded = sum(a for _, a in o.refunds[:r])
        if r:
            updated = max(updated, o.refunds[r - 1][0])
        total = round(o.subtotal + o.shipping_price, 2)
        financial = "paid" if not r else ("refunded" if refunded >= o.subtotal - 0.005 else "partially_refunded")
        view = Order(o.order_id, o.shop, o.number, f"#{o.number}", o.created_at, updated, o.currency, o.channel,
                     o.market, o.city.place.city, o.email, o.lines, o.subtotal, o.shipping_price, o.shipping_cost,
                     total, o.promised, o.location_id, financial, "fulfilled" if shipped else None, None,
                     fulfillments)
        return view

    def forecasts(self, now: datetime, start: datetime | None = None, end: datetime | None = None) -> list[Forecast]:
        """Hourly plan per sku×market: by default from `now - history` to `now + 2 days`; `start`/`end`
        pick another range (never before the world's start nor past `now + 2 days`: plans are published
        two days ahead)."""
        with self._lock:
            c = self._cut(now)
            lo = max(self.start, _floor_hour(c - timedelta(days=self.history_days)))
            hi = _floor_hour(c) + timedelta(days=2)
            if start is not None:
                lo = max(self.start, _floor_hour(utc(start)))
            if end is not None:
                hi = min(hi, utc(end))
            out = []
            hour = _floor_hour(lo)
            while hour < hi:
                out.extend(self._forecast_hour(hour))
                hour += H
            return out

    def _forecast_hour(self, hour: datetime) -> list[Forecast]:
        hit = self._forecast_hours.get(hour)
        if hit is not None:
            return hit
        # Plans are published daily, two days ahead; a scenario switch republishes the hours after it.
        published = max(self.start, hour.replace(hour=0) - timedelta(days=2))
        for cut in self._switches:
            if hour >= cut:
                published = max(published, cut)
        weight_total = sum(s.weight for s in cat.SKUS)
        rows = []
        for market in cat.MARKETS:
            units = self._hour_rate(market, hour) * EXPECTED_UNITS_PER_ORDER
            for s in cat.SKUS:
                rows.append(Forecast(s.sku, market, hour, round(units * s.weight / weight_total, 4), published))
        if len(self._forecast_hours) > 20_000:
            self._forecast_hours.clear()
        self._forecast_hours[hour] = rows
        return rows
