"""The decision table: which response wins under which trigger conditions, and the thresholds an
executable playbook's trigger takes from it.

`sweep` sets the network to each combination of trigger conditions and runs the comparison there:
- hours_to_stockout: every key's stock set to that many hours of its expected demand right now;
- inbound_eta_h: no shipment under way arrives before that hour;
- demand_ratio: recent sales ÷ forecast (the uplift) set to that ratio for every key.
`thresholds` reads off the region where the quick-response plan (the response, other than doing
nothing, that wins most cells) wins: below which hours to stockout, above which demand ratio, above
which inbound ETA. `export` writes them to twin_thresholds for the playbook (permission "approve")."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable

import numpy as np

import queries
from tower.auth import audit
from tower.auth.policy import Identity, require
from tower.twin import responses as R
from tower.twin.errors import TwinInvalid
from tower.twin.network import Network
from tower.twin.simulate import compare

AXES = ("hours_to_stockout", "inbound_eta_h", "demand_ratio")


@dataclass
class DecisionTable:
    scenario: object
    axes: dict[str, list[float]]             # axis name → values swept
    winners: np.ndarray                      # (n_hours, n_eta, n_ratio) winning response name per cell
    net_benefit: dict[str, np.ndarray]       # response name → (n_hours, n_eta, n_ratio) net benefit p50
    runs: int

    def cells(self) -> list[dict]:
        """One row per cell: the conditions, the winner, each response's net benefit p50."""
        out = []
        for ix in itertools.product(*(range(len(v)) for v in self.axes.values())):
            row = {a: self.axes[a][i] for a, i in zip(AXES, ix)}
            row["winner"] = str(self.winners[ix])
            row.update({f"net_{n}": round(float(v[ix]), 2) for n, v in self.net_benefit.items()})
            out.append(row)
        return out

    def to_json(self) -> dict:
        return {"scenario": self.scenario.name, "axes": self.axes, "runs": self.runs, "cells": self.cells()}


def condition(net: Network, hours_to_stockout: float, inbound_eta_h: float, demand_ratio: float) -> Network:
    """The network under one combination of trigger conditions."""
    uplift = np.full(net.size, demand_ratio, np.float32)
    probe = replace(net, uplift=uplift)
    pace = probe.demand_mean(4).mean(axis=1)                       # units per hour right now
    stock = np.where(pace > 0, pace * hours_to_stockout, net.stock).astype(np.float32)
    p = net.pipeline
    eta = np.where(p.kind == 0, np.maximum(np.nan_to_num(p.eta_h, nan=inbound_eta_h), inbound_eta_h), p.eta_h)
    return replace(probe, stock=stock, pipeline=replace(p, eta_h=eta))


def sweep(network: Network, scenario, responses: list | None = None, *,
          hours_to_stockout=(6, 12, 24, 48, 96), inbound_eta_h=(24, 72, 168), demand_ratio=(1.0, 1.5, 2.0),
          runs: int = 200, seed: int = 0, cancel: threading.Event | None = None,
          progress: Callable[[float], None] | None = None) -> DecisionTable:
    axes = {"hours_to_stockout": [float(x) for x in hours_to_stockout],
            "inbound_eta_h": [float(x) for x in inbound_eta_h], "demand_ratio": [float(x) for x in demand_ratio]}
    for name, values in axes.items():
        if not values:
            raise TwinInvalid(f"the sweep needs at least one value of {name}")
        if any(v < 0 for v in values) or (name == "demand_ratio" and any(v <= 0 for v in values)):
            raise TwinInvalid(f"{name} values must be positive: {values}")
    responses = responses or R.default_responses(network)
    shape = tuple(len(v) for v in axes.values())
    winners = np.empty(shape, dtype=object)
    benefit: dict[str, np.ndarray] = {}
    cells = list(itertools.product(*(range(n) for n in shape)))
    for done, ix in enumerate(cells):
        values = [axes[a][i] for a, i in zip(AXES, ix)]
        c = compare(condition(network, *values), scenario, responses, runs=runs, seed=seed, cancel=cancel)
        winners[ix] = c.winner
        for o in c.outcomes:
            benefit.setdefault(o.name, np.zeros(shape))[ix] = o.net_benefit_p50
        if progress is not None:
            progress((done + 1) / len(cells))
    return DecisionTable(scenario, axes, winners, benefit, runs)


def quick_response(table: DecisionTable) -> str | None:
    """The response other than doing nothing that wins most cells (None if doing nothing always wins)."""
    names, counts = np.unique(table.winners.astype(str), return_counts=True)
    ranked = [(c, n) for n, c in zip(names, counts) if n != "do_nothing"]
    return str(max(ranked)[1]) if ranked else None


def thresholds(table: DecisionTable, playbook: str = "B-03", response: str | None = None) -> dict:
    """Trigger thresholds where `response` (default: the quick-response plan) wins the majority of
    the cells at that value of one axis: hours_to_stockout_below (the largest such value),
    inbound_eta_h_above and demand_ratio_above (the smallest). Axes where it never wins are left out."""
    quick = response or quick_response(table)
    out: dict = {"playbook": playbook, "response": quick}
    if quick is None:
        return out
    wins = table.winners.astype(str) == quick
    for axis_no, axis in enumerate(AXES):
        values = table.axes[axis]
        share = wins.mean(axis=tuple(i for i in range(3) if i != axis_no))
        winning = [v for v, s in zip(values, share) if s > 0.5]
        if not winning:
            continue
        if axis == "hours_to_stockout":
            out["hours_to_stockout_below"] = max(winning)
        elif axis == "inbound_eta_h":
            out["inbound_eta_h_above"] = min(winning)
        else:
            out["demand_ratio_above"] = min(winning)
    return out


def export(db, who: Identity | None, playbook: str, found: dict, scenario, runs: int,
           now: datetime | None = None) -> int:
    """Write the numeric thresholds to twin_thresholds for `playbook` (permission "approve"), audited
    in the same transaction. Returns how many were written."""
    who = require(who, "approve")
    at = now or datetime.now(timezone.utc)
    rows = {k: float(v) for k, v in found.items() if k not in ("playbook", "response") and v is not None}
    if not rows:
        raise TwinInvalid(f"no threshold to export for {playbook}: the quick response never wins the sweep")
    with db.cursor() as cur:
        cur.begin()
        try:
            for name, value in rows.items():
                cur.execute(queries.load("twin/thresholds_insert"), {
                    "playbook": playbook, "name": name, "value": value,
                    "scenario": getattr(scenario, "name", scenario), "runs": runs, "at": at})
            audit.record(cur, who, "twin.thresholds.export", at=at, target=playbook,
                         detail={"thresholds": rows, "response": found.get("response"),
                                 "scenario": getattr(scenario, "name", scenario), "runs": runs})
            cur.commit()
        except Exception:
            cur.rollback()
            raise
    return len(rows)
