"""What arrives where and when, per run: the pipeline's items with sampled times, changed by a
response, then delayed by the scenario's disruptions. Vectorised over runs (times are (runs, n)).

An item is a quantity of one key (SKU × warehouse) from one supplier on one route: an inbound
shipment under way (origin 0), a PO not yet shipped (1), an order the usual ordering pattern places
inside the horizon (2), or an order a response places (3). Items with origin ≥ 1 are not shipped
yet, so a supplier stop, air freight or a new route can still change them."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tower.twin import responses as R
from tower.twin import scenarios as S
from tower.twin.network import Lane, Network

SHIPMENT, OPEN_PO, PLANNED, NEW = 0, 1, 2, 3


@dataclass
class Items:
    key: np.ndarray          # (n,) key index
    units: np.ndarray        # (n,) float32
    supplier: np.ndarray     # (n,) supplier_id
    mode: np.ndarray         # (n,) sea | air | truck | express
    nodes: list              # n × tuple of node ids the route passes
    positions: list          # n × tuple of when in the trip (0–1)
    origin: np.ndarray       # (n,) SHIPMENT | OPEN_PO | PLANNED | NEW
    order_h: np.ndarray      # (n,) when it was (or will be) ordered
    ship_h: np.ndarray       # (runs, n) hour it leaves the supplier
    transit_h: np.ndarray    # (runs, n) hours on the way

    @property
    def arrive_h(self) -> np.ndarray:
        return self.ship_h + self.transit_h

    def take(self, mask: np.ndarray) -> "Items":
        idx = np.flatnonzero(mask)
        return Items(self.key[idx], self.units[idx], self.supplier[idx], self.mode[idx],
                     [self.nodes[i] for i in idx], [self.positions[i] for i in idx], self.origin[idx],
                     self.order_h[idx], self.ship_h[:, idx], self.transit_h[:, idx])

    def concat(self, other: "Items") -> "Items":
        return Items(np.concatenate([self.key, other.key]), np.concatenate([self.units, other.units]),
                     np.concatenate([self.supplier, other.supplier]), np.concatenate([self.mode, other.mode]),
                     self.nodes + other.nodes, self.positions + other.positions,
                     np.concatenate([self.origin, other.origin]),
                     np.concatenate([self.order_h, other.order_h]),
                     np.concatenate([self.ship_h, other.ship_h], axis=1),
                     np.concatenate([self.transit_h, other.transit_h], axis=1))

    def copy(self) -> "Items":
        return replace(self, units=self.units.copy(), mode=self.mode.copy(), nodes=list(self.nodes),
                       positions=list(self.positions), ship_h=self.ship_h.copy(), transit_h=self.transit_h.copy())


def _draw(samples: np.ndarray, rng: np.random.Generator, size) -> np.ndarray:
    """Resample history with a little jitter (±5 %) so a short history does not repeat exactly."""
    return (rng.choice(samples, size=size) * rng.uniform(0.95, 1.05, size=size)).astype(np.float32)


def _redraw(transit: np.ndarray, cols: np.ndarray, specs: list[tuple], net: Network, rng,
            extra_h: float = 0.0) -> dict[tuple, Lane]:
    """Draw new transit times for `cols`, one draw per lane for all its items; specs[i] is
    (supplier, warehouse, mode or None) of cols[i]. Returns the lane of each spec."""
    runs = transit.shape[0]
    groups: dict[tuple, list[int]] = {}
    for c, spec in zip(cols, specs):
        groups.setdefault(spec, []).append(int(c))
    lanes = {}
    for spec, members in groups.items():
        lane = net.lane(spec[0], spec[1], spec[2]) if spec[2] else net.lane(spec[0], spec[1])
        lanes[spec] = lane
        transit[:, members] = _draw(lane.transit_h, rng, (runs, len(members))) + np.float32(extra_h)
    return lanes


def base_items(net: Network, horizon_h: int, runs: int, rng: np.random.Generator) -> Items:
    """The pipeline plus the usual ordering pattern over the horizon, with sampled times (drawn
    per lane and per supplier for all their items at once)."""
    p = net.pipeline
    every_h = net.settings.replenishment.order_every_days * 24
    times = np.arange(every_h / 2, horizon_h, every_h)
    f = net.flow
    nf = len(f) * len(times)
    key = np.concatenate([p.key, np.repeat(f.key.to_numpy(np.int64), len(times))])
    units = np.concatenate([p.units, np.repeat(f.units_per_day.to_numpy(np.float32) * every_h / 24, len(times))])
    sup = np.concatenate([p.supplier, np.repeat(f.supplier_id.to_numpy(object), len(times))])
    origin = np.concatenate([np.where(p.kind == 1, OPEN_PO, SHIPMENT), np.full(nf, PLANNED)]).astype(np.int8)
    order_h = np.concatenate([p.order_h, np.tile(times, len(f))])
    shipped_h = np.concatenate([p.shipped_h, np.full(nf, np.nan)])
    eta_h = np.concatenate([p.eta_h, np.full(nf, np.nan)])
    wanted = list(p.mode) + [None] * nf
    n = len(key)
    lanes: dict[tuple, Lane] = {}
    lane_id = np.empty(n, np.int64)
    ids: dict[tuple, int] = {}
    for j in range(n):
        spec = (sup[j], net.warehouse[key[j]], wanted[j])
        if spec not in ids:
            ids[spec] = len(ids)
            lanes[spec] = net.lane(*spec[:2], spec[2]) if spec[2] else net.lane(*spec[:2])
        lane_id[j] = ids[spec]
    lane_list = list(lanes.values())
    ship = np.zeros((runs, n), np.float32)
    transit = np.zeros((runs, n), np.float32)
    shipment = origin == SHIPMENT
    for lid, lane in enumerate(lane_list):
        cols = np.flatnonzero(lane_id == lid)
        transit[:, cols] = _draw(lane.transit_h, rng, (runs, len(cols)))
        with_eta = cols[shipment[cols] & ~np.isnan(eta_h[cols])]
        if len(with_eta):
            spread = float(np.std(lane.transit_h) / max(np.mean(lane.transit_h), 1.0))
            left = np.maximum(eta_h[with_eta], 0.0)
            arrive = left[None, :] + rng.standard_normal((runs, len(with_eta))) * (spread * np.maximum(left, 12.0))
            sh = np.nan_to_num(shipped_h[with_eta], nan=0.0)[None, :]
            arrive = np.where(arrive < 0, rng.uniform(0, 24, arrive.shape), arrive)
            ship[:, with_eta] = sh
            transit[:, with_eta] = arrive - sh
    no_eta = np.flatnonzero(shipment & np.isnan(eta_h))
    ship[:, no_eta] = np.nan_to_num(shipped_h[no_eta], nan=0.0)[None, :]
    late = ship[:, no_eta] + transit[:, no_eta] < 0
    transit[:, no_eta] = np.where(late, rng.uniform(0, 24, late.shape) - ship[:, no_eta], transit[:, no_eta])
    for s_id in set(sup[~shipment]):
        cols = np.flatnonzero(~shipment & (sup == s_id))
        rec = net.suppliers.get(s_id)
        lead = (_draw(rec.lead_days, rng, (runs, len(cols))) * 24 if rec
                else np.full((runs, len(cols)), 168, np.float32))
        start = order_h[cols][None, :] + lead
        ship[:, cols] = np.where(start < 0, rng.exponential(24, start.shape), start)
    return Items(key.astype(np.int64), units.astype(np.float32), sup.astype(object),
                 np.asarray([lane_list[i].mode for i in lane_id], dtype=object),
                 [lane_list[i].nodes for i in lane_id], [lane_list[i].positions for i in lane_id],
                 origin, order_h.astype(np.float64), ship, transit)


# ── disruptions ──────────────────────────────────────────────────────────────────────────────────
def disrupt(items: Items, net: Network, scenario: S.Scenario) -> Items:
    """Delay items by the scenario's supplier stops, port closures and congestion, customs holds."""
    it = items.copy()
    unshipped = it.origin != SHIPMENT
    for d in scenario.disruptions:
        if isinstance(d, S.SupplierStop):
            cols = np.flatnonzero(unshipped & (it.supplier == d.supplier))
            if len(cols):
                hit = it.ship_h[:, cols] >= d.start_h
                it.ship_h[:, cols] += hit * np.float32(d.days * 24)
    for d in scenario.disruptions:
        if isinstance(d, S.Port) or (isinstance(d, S.CustomsHold) and d.node is not None):
            _node_delay(it, d)
        elif isinstance(d, S.CustomsHold):
            cols = np.flatnonzero(net.market[it.key] == d.market)
            hit = it.arrive_h[:, cols] >= d.start_h
            it.transit_h[:, cols] += hit * np.float32(d.days * 24)
    return it


def _node_delay(it: Items, d) -> None:
    """Delay every item whose route passes d.node, by when it passes (all such items at once)."""
    pos = np.asarray([ps[route.index(d.node)] if d.node in route else np.nan
                      for route, ps in zip(it.nodes, it.positions)], dtype=np.float32)
    cols = np.flatnonzero(~np.isnan(pos))
    if len(cols) == 0:
        return
    passing = it.ship_h[:, cols] + pos[cols][None, :] * it.transit_h[:, cols]
    if isinstance(d, S.CustomsHold):
        delay = np.where(passing >= d.start_h, d.days * 24, 0.0)
    elif d.closed:
        end = d.start_h + d.days * 24
        delay = np.where((passing >= d.start_h) & (passing < end), end - passing, 0.0)
    else:
        end = d.start_h + d.days * 24 if d.days else np.inf
        delay = np.where((passing >= d.start_h) & (passing < end), d.extra_days * 24, 0.0)
    it.transit_h[:, cols] += delay.astype(np.float32)


def disrupted_nodes(scenario: S.Scenario) -> set[str]:
    return {d.node for d in scenario.disruptions if getattr(d, "node", None)}


# ── responses ────────────────────────────────────────────────────────────────────────────────────
def respond(items: Items, net: Network, scenario: S.Scenario, response, rng: np.random.Generator,
            gap: np.ndarray) -> tuple[Items, float, np.ndarray]:
    """(items changed by the response, its extra cost in USD, stock moved away at h = 0 per key).
    `gap` (K,) is the expected shortfall over the horizon if nothing is done (emergency orders)."""
    runs = items.ship_h.shape[0]
    fr = net.settings.freight
    moved = np.zeros(net.size, np.float32)
    if isinstance(response, R.ShiftToBackup):
        primary = response.primary or net.by_tier("primary").supplier_id
        backup = net.suppliers[response.backup or net.by_tier("backup").supplier_id]
        cols = np.flatnonzero((items.origin != SHIPMENT) & (items.supplier == primary))
        it = items.copy()
        it.units[cols] *= np.float32(1 - response.share)
        order_h = np.maximum(items.order_h[cols], 0)   # the backup is asked now, or when the order was due
        new = _orders(net, backup.supplier_id, items.key[cols], items.units[cols] * response.share, order_h, rng, runs)
        cost = sum(float(u) * (net.unit_cost(backup.supplier_id, k) - net.unit_cost(primary, k)
                               + fr.per_unit(m) - fr.per_unit(om))
                   for k, u, m, om in zip(new.key, new.units, new.mode, items.mode[cols]))
        return it.concat(new), cost, moved
    if isinstance(response, R.AirFreight):
        it = items.copy()
        chosen = (items.origin != SHIPMENT) & (items.mode == "sea")
        if response.supplier:
            chosen &= items.supplier == response.supplier
        cols = np.flatnonzero(chosen)
        specs = [(items.supplier[j], net.warehouse[items.key[j]], "air") for j in cols]
        lanes = _redraw(it.transit_h, cols, specs, net, rng)
        for j, spec in zip(cols, specs):
            it.mode[j], it.nodes[j], it.positions[j] = "air", lanes[spec].nodes, lanes[spec].positions
        return it, float(items.units[cols].sum()) * (fr.air - fr.sea), moved
    if isinstance(response, R.AlternativeRoute):
        avoid = set(response.avoid) or disrupted_nodes(scenario)
        it = items.copy()
        cost = 0.0
        via_lanes = [ln for ls in net.lanes.values() for ln in ls if response.via in ln.nodes and ln.mode == response.mode]
        cols = np.asarray([j for j in np.flatnonzero(items.origin != SHIPMENT)
                           if avoid.intersection(items.nodes[j])], dtype=np.int64)
        specs = []
        for j in cols:
            wh = net.warehouse[items.key[j]]
            same = [ln for ln in via_lanes if ln.warehouse_id == wh] or via_lanes
            specs.append((same[0].supplier_id, same[0].warehouse_id, same[0].mode) if same
                         else (items.supplier[j], wh, response.mode))
            it.mode[j], it.nodes[j], it.positions[j] = response.mode, (response.via,), (0.3,)
            cost += float(items.units[j]) * (fr.per_unit(response.mode) - fr.per_unit(items.mode[j]) + fr.reroute_fee)
        _redraw(it.transit_h, cols, specs, net, rng, extra_h=fr.feeder_hours)
        return it, cost, moved
    if isinstance(response, R.EmergencySupplier):
        sup = net.suppliers[response.supplier or net.by_tier("emergency").supplier_id]
        want = gap * response.share_of_gap
        keys = np.flatnonzero(want >= 1)
        keys = keys[np.argsort(-want[keys])]
        if len(keys) == 0:
            return items, 0.0, moved
        new = _orders(net, sup.supplier_id, keys, np.ceil(want[keys]).astype(np.float32), np.zeros(len(keys)), rng, runs)
        cost = sum(float(u) * (net.unit_cost(sup.supplier_id, k) - float(net.cost[k]) + fr.per_unit(m))
                   for k, u, m in zip(new.key, new.units, new.mode))
        return items.concat(new), cost + net.settings.expediting.emergency_order_fee * len(keys), moved
    if isinstance(response, R.Transfer):
        tc = net.settings.transfer
        daily = net.demand_mean(24 * 7).sum(axis=1) / 7
        k_from = np.flatnonzero(net.warehouse == response.from_warehouse)
        to_of = {net.sku[k]: k for k in np.flatnonzero(net.warehouse == response.to_warehouse)}
        keys, units = [], []
        for k in k_from:
            if net.sku[k] not in to_of:
                continue
            excess = max(float(net.stock[k]) - tc.keep_days * float(daily[k]), 0.0) * response.share
            if excess >= 1:
                moved[k] += np.floor(excess)
                keys.append(to_of[net.sku[k]]), units.append(np.floor(excess))
        if not keys:
            return items, 0.0, moved
        n = len(keys)
        sigma = np.sqrt(np.log1p(tc.cv ** 2))
        lane_h = (tc.median_h * np.exp(sigma * rng.standard_normal((runs, n)))).astype(np.float32)
        new = Items(np.asarray(keys, np.int64), np.asarray(units, np.float32), np.full(n, "transfer", object),
                    np.full(n, "truck", object), [()] * n, [()] * n, np.full(n, NEW, np.int8), np.zeros(n),
                    np.zeros((runs, n), np.float32), lane_h)
        return items.concat(new), float(sum(units)) * tc.cost_per_unit, moved
    return items, 0.0, moved


def _orders(net: Network, supplier_id: str, keys, units, order_h, rng, runs: int) -> Items:
    """New orders with `supplier_id`, made one after another at its free capacity (a fluid queue in
    order of need), shipped on its lane to each key's warehouse."""
    sup = net.suppliers[supplier_id]
    rate_h = max(sup.free_per_day, 1.0) / 24
    order = np.argsort(order_h, kind="stable")
    done_at, queue = 0.0, np.zeros(len(keys), np.float32)
    for j in order:
        start = max(done_at, float(order_h[j]))
        done_at = start + float(units[j]) / rate_h
        queue[j] = done_at - float(order_h[j]) - float(units[j]) / rate_h
    n = len(keys)
    ship = (np.asarray(order_h, np.float32)[None, :] + queue[None, :]
            + _draw(sup.lead_days, rng, (runs, n)) * 24).astype(np.float32)
    transit = np.zeros((runs, n), np.float32)
    specs = [(supplier_id, net.warehouse[k], None) for k in keys]
    lanes = _redraw(transit, np.arange(n), specs, net, rng)
    modes = [lanes[sp].mode for sp in specs]
    nodes = [lanes[sp].nodes for sp in specs]
    positions = [lanes[sp].positions for sp in specs]
    return Items(np.asarray(keys, np.int64), np.asarray(units, np.float32), np.full(n, supplier_id, object),
                 np.asarray(modes, object), nodes, positions, np.full(n, NEW, np.int8),
                 np.asarray(order_h, np.float64), ship, transit)
