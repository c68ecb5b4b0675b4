"""Calibration against the world (issue 14, item 6): the sandbox is an independent simulation of
the same supply chain. From one moment, run the twin with a scenario (no response: do nothing) and
inject the same disruption into the sandbox world; run the world forward over the horizon and
compare what happened (stockout hours per SKU × warehouse, lost units) with the twin's p10–p90
band over its Monte Carlo runs. The last result is stored in `twin_backtests` for the What-if page.

Only disruptions both sides model the same way are accepted (`sandbox_windows`): a supplier stop,
a port closed (the sandbox holds departures until the window ends: a closure, not a +D congestion),
and demand × k on every SKU and market (the sandbox's demand surge has no SKU filter). Anything else
is refused in words rather than compared with something different."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import queries
from connectors.scheduler import Scheduler
from connectors.testing import write_config
from sandbox.model import ScenarioWindow
from sandbox.server import start as start_sandbox
from sandbox.world import World
from tower.clock import ManualClock, utc
from tower.config import SandboxConfig
from tower.db import Database
from tower.twin import network as network_mod
from tower.twin import responses as R
from tower.twin import scenarios as S
from tower.twin import simulate
from tower.twin.errors import TwinInvalid

H = timedelta(hours=1)
BAND = (10, 50, 90)
SYNC_HOURS = (2, 1, 0)     # syncs before the start: stock observations and a rate to read


@dataclass(frozen=True)
class Metric:
    name: str                 # lost_units | stockout_hours_total | stockout_hours:<sku>@<warehouse>
    observed: float           # what happened in the sandbox
    p10: float
    p50: float
    p90: float

    @property
    def inside(self) -> bool:
        return self.p10 <= self.observed <= self.p90

    @property
    def error(self) -> float:
        """p50 − observed: positive = the twin expected more than happened."""
        return self.p50 - self.observed


@dataclass(frozen=True)
class BacktestResult:
    scenario: str
    start_at: datetime
    horizon_h: int
    runs: int
    metrics: list[Metric] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return f"{self.scenario}@{self.start_at:%Y-%m-%dT%H:%MZ}"

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    @property
    def inside_share(self) -> float:
        return float(np.mean([m.inside for m in self.metrics])) if self.metrics else float("nan")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"metric": m.name, "observed": m.observed, "p10": m.p10, "p50": m.p50,
                              "p90": m.p90, "inside": m.inside, "error": m.error} for m in self.metrics])


# ── the world at a moment, and a Tower database synced from it ─────────────────────────────────
@dataclass
class WorldAt:
    """A sandbox world whose clock reads `start`; `fresh()` makes another, identical up to `start`
    (same seed and clock readings → the same records), for the next scenario to branch from."""
    seed: int
    start: datetime
    history_days: float
    world: World
    clock: ManualClock

    @classmethod
    def make(cls, seed: int, start: datetime, history_days: float = 14) -> "WorldAt":
        start = utc(start)
        clock = ManualClock(start - SYNC_HOURS[0] * H - H)
        world = World(seed, clock, history_days=history_days, scenarios=[])
        clock.set(start)
        return cls(seed, start, history_days, world, clock)

    def fresh(self) -> "WorldAt":
        return WorldAt.make(self.seed, self.start, self.history_days)


def synced_database(folder: Path, at: WorldAt) -> Path:
    """Sync every connector against `at`'s world (served on loopback, real HTTP) as the scheduler
    would in the hours before the start; the database file it wrote."""
    cfg_sandbox = SandboxConfig(port=0, seed=at.seed, history_days=at.history_days, scenarios=())
    server = start_sandbox(cfg_sandbox, at.clock, world=at.world)
    try:
        cfg = write_config(folder, server.url)
        db = Database.for_config(cfg)
        try:
            scheduler = Scheduler(db, cfg, at.clock)
            for hours_before in SYNC_HOURS:
                at.clock.set(at.start - hours_before * H)
                failed = {n: r and r.error for n, r in scheduler.run_all().items() if r is None or r.status == "failed"}
                if failed:
                    raise RuntimeError(f"sandbox sync at {at.clock.now()} failed: {failed}")
        finally:
            db.close()
    finally:
        server.stop()
    return cfg.db_path


# ── the same disruption on both sides ───────────────────────────────────────────────────────────
def sandbox_windows(scenario: S.Scenario, start: datetime) -> list[ScenarioWindow]:
    """The sandbox's scenario windows for the twin `scenario` starting at `start`, or TwinInvalid
    naming the disruption the sandbox cannot play the same way."""
    out = []
    for d in scenario.disruptions:
        begin = utc(start) + timedelta(hours=d.start_h)
        if isinstance(d, S.SupplierStop):
            out.append(ScenarioWindow("supplier_outage", begin, begin + timedelta(days=d.days),
                                      {"supplier": d.supplier}))
        elif isinstance(d, S.Port) and d.closed:
            out.append(ScenarioWindow("port_congestion", begin, begin + timedelta(days=d.days), {"nodes": [d.node]}))
        elif isinstance(d, S.Demand) and not d.skus and not d.markets:
            end = begin + timedelta(hours=d.hours) if d.hours else begin + timedelta(hours=scenario.horizon_h)
            out.append(ScenarioWindow("demand_surge", begin, end, {"factor": d.factor}))
        else:
            raise TwinInvalid(f"the sandbox cannot play {d.kind} {d.model_dump(exclude={'kind'})} the same way "
                              "(it knows supplier stops, closed ports and demand × k on every SKU)")
    return out


def observe(at: WorldAt, horizon_h: int, keys: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Run the world forward `horizon_h` hours from its start: per key (sku, warehouse_id) the hours
    that ended with an empty shelf, and the units nobody could serve."""
    end = at.start + horizon_h * H
    at.clock.set(end)
    wh_of = {w.location_id: w.warehouse_id for w in at.world.warehouses}
    k_of = {(s, w): k for k, (s, w) in enumerate(zip(keys["sku"], keys["warehouse_id"]))}
    hours = np.zeros(len(keys))
    for h in range(1, horizon_h + 1):
        for lvl in at.world.inventory_levels(at.start + h * H):
            k = k_of.get((lvl.sku, wh_of.get(lvl.location_id)))
            if k is not None and lvl.available <= 0:
                hours[k] += 1
    lost = sum(units for when, _, _, units in at.world.lost_sales(end) if when >= at.start)
    return hours, float(lost)


def twin_runs(net: network_mod.Network, scenario: S.Scenario, runs: int, seed: int):
    """Per Monte Carlo run, doing nothing: stockout hours per key (runs, K) and lost units (runs,).
    `simulate.compare` keeps only p50/p90; a band needs p10 too, so the runs are read here."""
    S.check(net, scenario)
    rng = np.random.default_rng(seed)
    prep = simulate.prepare(net, scenario, [R.DoNothing()], runs, rng)
    totals = simulate.step(prep, runs, rng, fan_runs=2, fan_points=2)
    s = prep.names.index("do_nothing")
    return totals.out_hours[s], totals.lost_units[s]


def _band(name: str, observed: float, samples: np.ndarray) -> Metric:
    p10, p50, p90 = (float(v) for v in np.percentile(samples, BAND))
    return Metric(name, float(observed), p10, p50, p90)


def run(db, at: WorldAt, scenario: S.Scenario, *, runs: int = 1000, seed: int = 0,
        demand_override=None) -> BacktestResult:
    """Twin band vs the sandbox's outcome for `scenario` from `at.start` (the world must not have
    run past it). `db` is a Tower database synced from the same world at that moment."""
    if at.clock.now() != at.start:
        raise TwinInvalid("the world has already run past the backtest's start: make a fresh one")
    net = network_mod.build(db, at.start, demand_override=demand_override)
    if net.size == 0:
        raise TwinInvalid("the database has no SKU × warehouse with stock: nothing to backtest")
    horizon = scenario.horizon_h
    out_hours, lost_units = twin_runs(net, scenario, runs, seed)
    at.world.set_scenarios(sandbox_windows(scenario, at.start))
    keys = net.keys_frame()
    seen_hours, seen_lost = observe(at, horizon, keys)
    metrics = [_band("lost_units", seen_lost, lost_units),
               _band("stockout_hours_total", seen_hours.sum(), out_hours.sum(axis=1))]
    for k, (sku, wh) in enumerate(zip(keys["sku"], keys["warehouse_id"])):
        if seen_hours[k] > 0 or np.percentile(out_hours[:, k], 90) > 0:  # keys where anything happened
            metrics.append(_band(f"stockout_hours:{sku}@{wh}", seen_hours[k], out_hours[:, k]))
    return BacktestResult(scenario.name, at.start, horizon, runs, metrics)


# ── the stored result ────────────────────────────────────────────────────────────────────────────
def save(db, result: BacktestResult, ran_at: datetime) -> None:
    rows = result.frame().assign(run_id=result.run_id, ran_at=utc(ran_at), scenario=result.scenario,
                                 start_at=result.start_at, horizon_h=result.horizon_h, runs=result.runs)
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("twin/backtest_clear"), {"run_id": result.run_id})
            cur.register("backtest_rows", rows)
            cur.execute(queries.load("twin/backtest_insert"))
            cur.unregister("backtest_rows")
            cur.commit()
        except Exception:
            cur.rollback()
            raise


def last(db) -> pd.DataFrame:
    """The last backtest's rows (metric, observed, p10, p50, p90, inside, error, …); empty if none."""
    return db.query("twin/backtest_last")
