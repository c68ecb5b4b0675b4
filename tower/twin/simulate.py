"""Monte Carlo over runs × keys × hours: `compare(network, scenario, responses)` → `Comparison`.

Every response is simulated on the same random draws (common random numbers: the same demand noise,
lead and transit times), plus a baseline with no disruption; the per-run differences make the net
benefit. State is one float32 array (slots × runs × keys) stepped hour by hour — a Python loop over
hours only, never over runs. Each hour: arrivals land, demand is drawn (level per run and key ×
the hourly mean, with Poisson-like noise), what stock can serve is sold, the rest is lost.

`compare_loop` is the straightforward version — one run at a time — kept as the benchmark's
reference and to check the vectorised one against (tests)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tower.twin import arrivals as A
from tower.twin import responses as R
from tower.twin import scenarios as S
from tower.twin.errors import TwinCancelled, TwinInvalid
from tower.twin.network import Network
from tower.twin.outcome import Comparison, summarise

BYTES = 4
STATE_ARRAYS = 9        # stock, lost, demand, on-time served, stockout hours + temporaries per hour
MAX_RUNS = 100_000
MIN_CHUNK = 50          # fewer runs at once than this and the chunks cost more than they save


@dataclass
class Prepared:
    names: list[str]                 # slot names ("baseline" first), slots sharing a demand side by side
    responses: list                  # the response models, in the order asked for
    slot_response: list              # per slot: its response model (None for the baseline)
    ranges: list[tuple[int, int]]    # slot ranges [a, b) that share one demand (its means: lam[a])
    stock0: np.ndarray               # (S, K) stock at h = 0 after transfers leave
    lam: np.ndarray                  # (S, K, H) mean units per hour
    late: np.ndarray                 # (K, H) share of served units delivered late (carrier delay)
    level: np.ndarray                # (runs, K) demand level per run (lognormal around 1)
    ev_idx: np.ndarray               # arrival events: flat (slot, run, key) index, sorted by hour
    ev_qty: np.ndarray               # units
    ev_bounds: np.ndarray            # (H + 1,) slice bounds per hour
    extra_cost: np.ndarray           # (S,) USD
    price: np.ndarray                # (K,) unit price, USD
    value: np.ndarray                # (K,) what a lost unit costs in the net benefit, USD


@dataclass
class Totals:
    """Per run (S, runs): lost units, lost sales USD, lost value (net-benefit basis), units asked,
    units served on time; per run and key: stockout hours; the fan of the first runs."""
    lost_units: np.ndarray
    lost_usd: np.ndarray
    lost_value: np.ndarray
    asked: np.ndarray
    on_time: np.ndarray
    out_hours: np.ndarray            # (S, runs, K) hours with an empty shelf while demand was expected
    fan: np.ndarray | None           # (3, P, S, K) p10/p50/p90 of stock at fan_hours
    stock_mean: np.ndarray | None    # (P, S, K) mean stock at fan_hours
    fan_hours: np.ndarray            # (P,)

    @staticmethod
    def join(parts: list["Totals"]) -> "Totals":
        cat = {f: np.concatenate([getattr(p, f) for p in parts], axis=1)
               for f in ("lost_units", "lost_usd", "lost_value", "asked", "on_time", "out_hours")}
        first = parts[0]
        weights = np.asarray([p.out_hours.shape[1] for p in parts], np.float64)
        mean = (None if first.stock_mean is None else
                sum(p.stock_mean * w for p, w in zip(parts, weights)) / weights.sum())
        return Totals(**cat, fan=first.fan, stock_mean=mean, fan_hours=first.fan_hours)


def estimate_bytes(net: Network, horizon_h: int, slots: int, runs: int) -> int:
    """Memory a chunk of `runs` needs: demand means (fixed), plus per run the state arrays and the
    arrival events; the figure the limit checks."""
    return _fixed_bytes(net, horizon_h, slots) + runs * _per_run_bytes(net, horizon_h, slots)


def _fixed_bytes(net: Network, horizon_h: int, slots: int) -> int:
    return int(slots * net.size * horizon_h * BYTES * 3)


def _per_run_bytes(net: Network, horizon_h: int, slots: int) -> int:
    orders = int(np.ceil(horizon_h / (net.settings.replenishment.order_every_days * 24)))
    items = len(net.pipeline) + len(net.flow) * orders
    events = slots * items * 1.5 * 16            # index, qty, hour, sort order (+ response orders)
    state = slots * net.size * BYTES * STATE_ARRAYS
    return int(events + state)


def chunk_runs(net: Network, scenario: S.Scenario, slots: int, runs: int) -> int:
    """How many runs to simulate at once within the memory limit (the rest follow in more chunks);
    TwinInvalid in words when even MIN_CHUNK runs do not fit."""
    limit = net.settings.limits.memory_mb * 2 ** 20
    kept = slots * runs * (net.size + 8) * BYTES    # per-run results kept across chunks
    want = min(runs, MIN_CHUNK)

    def fits(hours: int) -> int:
        return int((limit - kept - _fixed_bytes(net, hours, slots)) // max(_per_run_bytes(net, hours, slots), 1))

    if fits(scenario.horizon_h) >= want:
        return max(1, min(runs, fits(scenario.horizon_h)))
    days = scenario.horizon_days
    while days > 1 and fits(days * 24) < want:
        days -= 1
    need = kept + estimate_bytes(net, scenario.horizon_h, slots, want)
    raise TwinInvalid(
        f"{runs} runs over {scenario.horizon_days} days for {net.size} SKU × warehouse pairs and {slots - 1} "
        f"responses need at least {need / 2 ** 20:,.0f} MB, over the twin's limit of "
        f"{net.settings.limits.memory_mb:,.0f} MB: shorten the horizon to {days} days or run fewer runs")


def _validate(net, scenario, responses, runs):
    if not isinstance(runs, int) or runs < 2 or runs > MAX_RUNS:
        raise TwinInvalid(f"runs must be a whole number from 2 to {MAX_RUNS:,}, not {runs!r}")
    S.check(net, scenario)
    R.check(net, responses)
    if not any(isinstance(r, R.DoNothing) for r in responses):
        responses = [R.DoNothing(), *responses]
    return responses, chunk_runs(net, scenario, len(responses) + 1, runs)


# ── preparation: demand means, arrival events, costs ─────────────────────────────────────────────
def demand_factor(net: Network, scenario: S.Scenario, hours: int) -> np.ndarray:
    """(K, hours) the scenario's demand multipliers."""
    m = np.ones((net.size, hours), np.float32)
    for d in scenario.disruptions:
        if isinstance(d, S.Demand):
            keys = np.ones(net.size, bool)
            if d.skus:
                keys &= np.isin(net.sku, d.skus)
            if d.markets:
                keys &= np.isin(net.market, d.markets)
            a = int(d.start_h)
            b = hours if d.hours is None else min(hours, int(np.ceil(d.start_h + d.hours)))
            m[np.ix_(keys, np.arange(a, max(a, b)))] *= np.float32(d.factor)
    return m


def late_share(net: Network, scenario: S.Scenario, hours: int) -> np.ndarray:
    late = np.zeros((net.size, hours), np.float32)
    for d in scenario.disruptions:
        if isinstance(d, S.CarrierDelay):
            a = int(d.start_h)
            b = hours if d.days is None else min(hours, int(np.ceil(d.start_h + d.days * 24)))
            for k in range(net.size):
                if d.markets and net.market[k] not in d.markets:
                    continue
                slack = net.delivery_slack.get(net.market[k])
                share = float(np.mean(slack < d.hours)) if slack is not None and len(slack) else min(1.0, d.hours / 48)
                late[k, a:b] = np.maximum(late[k, a:b], share)
    return late


def unit_value(net: Network) -> np.ndarray:
    """What one lost unit costs the seller in the net benefit (config [value])."""
    v = net.settings.value
    base = net.price - net.cost if v.basis == "margin" else net.price
    return base + v.goodwill_per_lost_unit


def prepare(net: Network, scenario: S.Scenario, responses: list, runs: int,
            rng: np.random.Generator) -> Prepared:
    H = scenario.horizon_h
    lam0 = net.demand_mean(H)
    lam_scn = lam0 * demand_factor(net, scenario, H)
    base = A.base_items(net, H, runs, rng)
    hit = A.disrupt(base, net, scenario)
    arriving = (hit.arrive_h < H).mean(axis=0) * hit.units
    inbound = np.bincount(hit.key, weights=arriving, minlength=net.size)
    gap = np.maximum(lam_scn.sum(axis=1) - net.stock - inbound, 0)
    slots_items, lams, stocks, costs = [base], [lam0], [net.stock], [0.0]
    value = unit_value(net)
    for r in responses:
        items, cost, moved = A.respond(base, net, scenario, r, rng, gap)
        lam = lam_scn
        if isinstance(r, R.CapPromotion):
            window = (demand_factor(net, scenario, H) > 1) | (
                (net.uplift[:, None] > 1) & (np.arange(H)[None, :] < 48) & ~np.any(demand_factor(net, scenario, H) > 1))
            lam = np.where(window, lam_scn * np.float32(r.factor), lam_scn).astype(np.float32)
            turned = (lam_scn - lam).sum(axis=1)
            cost += float((turned * value).sum()) * (1 - net.settings.value.cap_recapture)
        slots_items.append(A.disrupt(items, net, scenario))
        lams.append(lam)
        stocks.append(net.stock - moved)
        costs.append(cost)
    level = _levels(net, runs, rng)
    # slots sharing a demand go side by side, so each hour's demand is drawn once per group and
    # broadcast over the group's slots (the baseline stays first)
    first: list[int] = []
    group = []
    for lam in lams:
        g = next((i for i, f in enumerate(first) if lams[f] is lam or np.array_equal(lams[f], lam)), None)
        if g is None:
            first.append(len(group))
            g = len(first) - 1
        group.append(g)
    order = np.argsort(group, kind="stable")
    counts = np.bincount(np.asarray(group))
    edges = np.concatenate([[0], np.cumsum(counts)])
    slot_response = [None, *responses]
    idx, qty, bounds = _events([slots_items[i] for i in order], runs, net.size, H)
    return Prepared([(["baseline"] + [r.name for r in responses])[i] for i in order], list(responses),
                    [slot_response[i] for i in order], [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])],
                    np.stack([stocks[i] for i in order]).astype(np.float32),
                    np.stack([lams[i] for i in order]).astype(np.float32),
                    late_share(net, scenario, H), level, idx, qty, bounds, np.asarray([costs[i] for i in order]),
                    net.price, value)


def _levels(net: Network, runs: int, rng) -> np.ndarray:
    sigma = net.uplift_sigma[None, :].astype(np.float32)
    z = rng.standard_normal((runs, net.size), dtype=np.float32)
    return np.exp(sigma * z - sigma ** 2 / 2).astype(np.float32)


def _events(slots_items: list, runs: int, K: int, H: int):
    """Arrival events of every slot as flat (slot, run, key) indices sorted by the hour they land."""
    idx_parts, qty_parts, hour_parts = [], [], []
    run_ix = np.arange(runs, dtype=np.int64)[:, None]
    for s, it in enumerate(slots_items):
        if len(it.key) == 0:
            continue
        arrive = it.arrive_h
        ok = arrive < H
        hour = np.clip(arrive, 0, H - 1).astype(np.int32)
        flat = (s * runs + run_ix) * K + it.key[None, :]
        qty = np.broadcast_to(it.units[None, :], arrive.shape)
        idx_parts.append(flat[ok]), qty_parts.append(qty[ok]), hour_parts.append(hour[ok])
    if not idx_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(H + 1, np.int64)
    hour = np.concatenate(hour_parts).astype(np.int16)   # int16: numpy sorts it by radix, in linear time
    order = np.argsort(hour, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(hour, minlength=H))])
    return np.concatenate(idx_parts)[order], np.concatenate(qty_parts)[order].astype(np.float32), bounds


# ── stepping ─────────────────────────────────────────────────────────────────────────────────────
def step(prep: Prepared, runs: int, rng: np.random.Generator, *, cancel: threading.Event | None = None,
         progress: Callable[[float], None] | None = None, fan_runs: int = 128, fan_points: int = 180) -> Totals:
    """Hour by hour over the horizon for every slot and run at once. Slots that share a demand
    (most responses do not change it) share its draws: demand is drawn once per group."""
    n_slots, K, H = prep.lam.shape
    G = len(prep.ranges)
    groups = np.asarray([a for a, _ in prep.ranges])
    shape = (n_slots, runs, K)
    stock = np.ascontiguousarray(np.broadcast_to(prep.stock0[:, None, :], shape)).astype(np.float32)
    flat = stock.reshape(-1)
    served_total = np.zeros(shape, np.float32)
    on_time_lost = np.zeros(shape, np.float32)      # served but late (carrier delay)
    out_hours = np.zeros(shape, np.float32)
    empty = np.empty(shape, bool)
    served = np.empty(shape, np.float32)
    asked = np.zeros((G, runs, K), np.float32)
    dg = np.empty((G, runs, K), np.float32)
    tmp = np.empty((G, runs, K), np.float32)
    noise = np.empty((runs, K), np.float32)
    level, sqrt_level = prep.level[None], np.sqrt(prep.level)[None]
    lam_T = np.ascontiguousarray(np.moveaxis(prep.lam[groups], 2, 0))     # (H, G, K)
    sqrt_lam = np.sqrt(lam_T)
    any_late = prep.late.any(axis=0)
    fan_step = max(1, int(np.ceil(H / fan_points)))
    fan_hours = np.arange(fan_step - 1, H, fan_step)
    fr = min(runs, fan_runs)
    fan = np.empty((3, len(fan_hours), n_slots, K), np.float32)
    mean = np.empty((len(fan_hours), n_slots, K), np.float32)
    report_every = max(1, H // 50)
    for h in range(H):
        if cancel is not None and cancel.is_set():
            raise TwinCancelled("the simulation was cancelled")
        a, b = prep.ev_bounds[h], prep.ev_bounds[h + 1]
        if b > a:
            np.add.at(flat, prep.ev_idx[a:b], prep.ev_qty[a:b])
        rng.standard_normal(dtype=np.float32, out=noise)
        # demand = mean·level + sqrt(mean·level)·noise, at least 0 (Poisson-like spread), per group
        np.multiply(lam_T[h][:, None, :], level, out=dg)
        np.multiply(sqrt_lam[h][:, None, :], sqrt_level, out=tmp)
        tmp *= noise[None]
        dg += tmp
        np.maximum(dg, 0, out=dg)
        asked += dg
        for g, (a, b) in enumerate(prep.ranges):
            np.minimum(stock[a:b], dg[g][None], out=served[a:b])
        stock -= served
        served_total += served
        if any_late[h]:
            served *= prep.late[:, h][None, None, :]
            served[0] = 0                     # the baseline has no disruption: its parcels are on time
            on_time_lost += served
        np.less(stock, 1, out=empty)
        out_hours += empty
        if (h + 1) % fan_step == 0 and (h // fan_step) < len(fan_hours):
            fan[:, h // fan_step] = np.percentile(stock[:, :fr, :], (10, 50, 90), axis=1)
            mean[h // fan_step] = stock.mean(axis=1)
        if progress is not None and (h + 1) % report_every == 0:
            progress((h + 1) / H)
    # a key nobody is expected to buy has no stockout hours, however empty its shelf
    out_hours *= (prep.lam.sum(axis=2) > 0.01)[:, None, :]
    asked_s = np.concatenate([np.broadcast_to(asked[g][None], (b - a, runs, K))
                              for g, (a, b) in enumerate(prep.ranges)])
    lost = asked_s - served_total
    np.maximum(lost, 0, out=lost)
    price, value = prep.price.astype(np.float32), prep.value.astype(np.float32)
    return Totals(lost.sum(axis=2), lost @ price, lost @ value, asked_s.sum(axis=2),
                  (served_total - on_time_lost).sum(axis=2), out_hours, fan, mean, fan_hours)


# ── entry points ─────────────────────────────────────────────────────────────────────────────────
def compare(network: Network, scenario: S.Scenario, responses: list | None = None, *, runs: int = 1000,
            seed: int = 0, cancel: threading.Event | None = None,
            progress: Callable[[float], None] | None = None) -> Comparison:
    """Simulate every response (and a no-disruption baseline) `runs` times; figures and the winner.
    Runs go in chunks when all at once would pass the memory limit (config [limits] memory_mb)."""
    started = time.perf_counter()
    responses, chunk = _validate(network, scenario, responses or R.default_responses(network), runs)
    rng = np.random.default_rng(seed)
    lim = network.settings.limits
    parts, prep, done = [], None, 0
    while done < runs:
        n = min(chunk, runs - done)
        if cancel is not None and cancel.is_set():
            raise TwinCancelled("the simulation was cancelled")
        prep = prepare(network, scenario, responses, n, rng)
        report = None if progress is None else (lambda f, d=done, n=n: progress((d + f * n) / runs))
        parts.append(step(prep, n, rng, cancel=cancel, progress=report, fan_runs=lim.fan_runs,
                          fan_points=lim.fan_points))
        done += n
    return summarise(network, scenario, prep, Totals.join(parts), runs=runs, seed=seed,
                     elapsed_s=time.perf_counter() - started, method="vectorised")


def compare_loop(network: Network, scenario: S.Scenario, responses: list | None = None, *, runs: int = 100,
                 seed: int = 0) -> Comparison:
    """The same model one run at a time (a Python loop per run): the reference for the benchmark."""
    started = time.perf_counter()
    responses, _ = _validate(network, scenario, responses or R.default_responses(network), runs)
    parts = []
    prep = None
    for r in range(runs):
        rng = np.random.default_rng([seed, r])
        prep = prepare(network, scenario, responses, 1, rng)
        parts.append(step(prep, 1, rng, fan_runs=1, fan_points=network.settings.limits.fan_points))
    return summarise(network, scenario, prep, Totals.join(parts), runs=runs, seed=seed,
                     elapsed_s=time.perf_counter() - started, method="loop")
