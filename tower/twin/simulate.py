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


@dataclass
class Prepared:
    names: list[str]                 # slot names: "baseline", then each response's name
    responses: list                  # the response models (slot 1…)
    stock0: np.ndarray               # (S, K) stock at h = 0 after transfers leave
    lam: np.ndarray                  # (S, K, H) mean units per hour
    late: np.ndarray                 # (K, H) share of served units delivered late (carrier delay)
    level: np.ndarray                # (runs, K) demand level per run (lognormal around 1)
    ev_idx: np.ndarray               # arrival events: flat (slot, run, key) index, sorted by hour
    ev_qty: np.ndarray               # units
    ev_bounds: np.ndarray            # (H + 1,) slice bounds per hour
    extra_cost: np.ndarray           # (S,) USD


@dataclass
class Totals:
    lost: np.ndarray                 # (S, runs, K) units lost
    demand: np.ndarray               # (S, runs, K) units asked for
    on_time: np.ndarray              # (S, runs, K) units served and delivered on time
    out_hours: np.ndarray            # (S, runs, K) hours with an empty shelf while demand was expected
    fan: np.ndarray | None           # (3, P, S, K) p10/p50/p90 of stock at fan_hours
    fan_hours: np.ndarray            # (P,)


def estimate_bytes(net: Network, horizon_h: int, slots: int, runs: int) -> int:
    """Memory the simulation needs (state, demand means, arrival events), the figure the limit checks."""
    per_run_items = len(net.pipeline) + len(net.flow) * int(np.ceil(horizon_h / (net.settings.replenishment.order_every_days * 24)))
    events = slots * runs * per_run_items * 1.5 * 16            # index, qty, hour, sort order (+ response orders)
    state = slots * runs * net.size * BYTES * STATE_ARRAYS
    means = slots * net.size * horizon_h * BYTES * 3
    return int(events + state + means)


def check_memory(net: Network, scenario: S.Scenario, slots: int, runs: int) -> None:
    limit = net.settings.limits.memory_mb * 2 ** 20
    need = estimate_bytes(net, scenario.horizon_h, slots, runs)
    if need <= limit:
        return
    days = scenario.horizon_days
    while days > 1 and estimate_bytes(net, days * 24, slots, runs) > limit:
        days -= 1
    raise TwinInvalid(
        f"{runs} runs over {scenario.horizon_days} days for {net.size} SKU × warehouse pairs and {slots - 1} "
        f"responses need about {need / 2 ** 20:,.0f} MB, over the twin's limit of "
        f"{net.settings.limits.memory_mb:,.0f} MB: shorten the horizon to {days} days or run fewer runs")


def _validate(net, scenario, responses, runs):
    if not isinstance(runs, int) or runs < 2 or runs > MAX_RUNS:
        raise TwinInvalid(f"runs must be a whole number from 2 to {MAX_RUNS:,}, not {runs!r}")
    S.check(net, scenario)
    R.check(net, responses)
    if not any(isinstance(r, R.DoNothing) for r in responses):
        responses = [R.DoNothing(), *responses]
    check_memory(net, scenario, len(responses) + 1, runs)
    return responses


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
    idx, qty, bounds = _events(slots_items, runs, net.size, H)
    return Prepared(["baseline"] + [r.name for r in responses], list(responses),
                    np.stack(stocks).astype(np.float32), np.stack(lams).astype(np.float32),
                    late_share(net, scenario, H), level, idx, qty, bounds, np.asarray(costs))


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
    hour = np.concatenate(hour_parts)
    order = np.argsort(hour, kind="stable")
    bounds = np.searchsorted(hour[order], np.arange(H + 1))
    return np.concatenate(idx_parts)[order], np.concatenate(qty_parts)[order].astype(np.float32), bounds


# ── stepping ─────────────────────────────────────────────────────────────────────────────────────
def step(prep: Prepared, runs: int, rng: np.random.Generator, *, cancel: threading.Event | None = None,
         progress: Callable[[float], None] | None = None, fan_runs: int = 256, fan_points: int = 240) -> Totals:
    n_slots, K, H = prep.lam.shape
    shape = (n_slots, runs, K)
    stock = np.ascontiguousarray(np.broadcast_to(prep.stock0[:, None, :], shape)).astype(np.float32)
    flat = stock.reshape(-1)
    lost = np.zeros(shape, np.float32)
    asked = np.zeros(shape, np.float32)
    on_time = np.zeros(shape, np.float32)
    out_hours = np.zeros(shape, np.float32)
    d = np.empty(shape, np.float32)
    served = np.empty(shape, np.float32)
    noise = np.empty((runs, K), np.float32)
    sqrt_level = np.sqrt(prep.level)[None]
    lam_T = np.ascontiguousarray(np.moveaxis(prep.lam, 2, 0))            # (H, S, K)
    sqrt_lam = np.sqrt(lam_T)
    fan_step = max(1, int(np.ceil(H / fan_points)))
    fan_hours = np.arange(fan_step - 1, H, fan_step)
    fr = min(runs, fan_runs)
    fan = np.empty((3, len(fan_hours), n_slots, K), np.float32)
    report_every = max(1, H // 50)
    for h in range(H):
        if cancel is not None and cancel.is_set():
            raise TwinCancelled("the simulation was cancelled")
        a, b = prep.ev_bounds[h], prep.ev_bounds[h + 1]
        if b > a:
            np.add.at(flat, prep.ev_idx[a:b], prep.ev_qty[a:b])
        rng.standard_normal(dtype=np.float32, out=noise)
        # demand = mean·level + sqrt(mean·level)·noise, at least 0 (Poisson-like spread)
        np.multiply(lam_T[h][:, None, :], prep.level[None], out=d)
        np.multiply(sqrt_lam[h][:, None, :], sqrt_level, out=served)
        served *= noise[None]
        d += served
        np.maximum(d, 0, out=d)
        np.minimum(stock, d, out=served)
        stock -= served
        asked += d
        d -= served
        lost += d
        served *= (1 - prep.late[:, h])[None, None, :]
        on_time += served
        out_hours += (stock < 1) & (lam_T[h] > 0.01)[:, None, :]
        if (h + 1) % fan_step == 0 and (h // fan_step) < len(fan_hours):
            fan[:, h // fan_step] = np.percentile(stock[:, :fr, :], (10, 50, 90), axis=1)
        if progress is not None and (h + 1) % report_every == 0:
            progress((h + 1) / H)
    return Totals(lost, asked, on_time, out_hours, fan, fan_hours)


# ── entry points ─────────────────────────────────────────────────────────────────────────────────
def compare(network: Network, scenario: S.Scenario, responses: list | None = None, *, runs: int = 1000,
            seed: int = 0, cancel: threading.Event | None = None,
            progress: Callable[[float], None] | None = None) -> Comparison:
    """Simulate every response (and a no-disruption baseline) `runs` times; figures and the winner."""
    started = time.perf_counter()
    responses = _validate(network, scenario, responses or R.default_responses(network), runs)
    rng = np.random.default_rng(seed)
    prep = prepare(network, scenario, responses, runs, rng)
    if cancel is not None and cancel.is_set():
        raise TwinCancelled("the simulation was cancelled")
    lim = network.settings.limits
    totals = step(prep, runs, rng, cancel=cancel, progress=progress, fan_runs=lim.fan_runs, fan_points=lim.fan_points)
    return summarise(network, scenario, prep, totals, runs=runs, seed=seed,
                     elapsed_s=time.perf_counter() - started, method="vectorised")


def compare_loop(network: Network, scenario: S.Scenario, responses: list | None = None, *, runs: int = 100,
                 seed: int = 0) -> Comparison:
    """The same model one run at a time (a Python loop per run): the reference for the benchmark."""
    started = time.perf_counter()
    responses = _validate(network, scenario, responses or R.default_responses(network), runs)
    parts = []
    prep = None
    for r in range(runs):
        rng = np.random.default_rng([seed, r])
        prep = prepare(network, scenario, responses, 1, rng)
        parts.append(step(prep, 1, rng, fan_runs=1, fan_points=1))
    totals = Totals(*(np.concatenate([getattr(p, f) for p in parts], axis=1)
                      for f in ("lost", "demand", "on_time", "out_hours")), None, np.zeros(0))
    return summarise(network, scenario, prep, totals, runs=runs, seed=seed,
                     elapsed_s=time.perf_counter() - started, method="loop")
