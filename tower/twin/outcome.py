"""The figures of a twin comparison: one `Outcome` per response, the winner, JSON for sharing.

Per response (all over the scenario's horizon, from the runs):
- stockout_probability: per key, the share of runs with at least one hour of an empty shelf while
  demand was expected; stockout_probability_any: of runs where any key had one.
- stockout_hours_p50/p90: per key, hours with an empty shelf (median and 90th percentile of runs).
- lost_units / lost_sales_usd p50/p90: demand not served (units; × list price, USD).
- extra_cost_usd: what the response costs beyond doing nothing (premiums, freight, fees, turned-away margin).
- on_time_pp: share of demand served and delivered on time, minus the same share with no disruption
  and no response (percentage points, median of the paired runs).
- net_benefit p10/p50/p90: (value of the lost sales doing nothing − with the response) − extra cost,
  per run on the same draws (USD; lost units valued per config [value]).
- fan: p10/p50/p90 of stock per key at `fan_hours` (from the first fan_runs runs); stock_mean: the
  mean stock over all runs at the same hours.
The winner has the best net benefit p50; a tie within 1 USD goes to the cheaper response."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TIE_USD = 1.0


@dataclass
class Outcome:
    name: str
    kind: str
    params: dict
    stockout_probability: np.ndarray
    stockout_probability_any: float
    stockout_hours_p50: np.ndarray
    stockout_hours_p90: np.ndarray
    lost_units_p50: float
    lost_units_p90: float
    lost_sales_usd_p50: float
    lost_sales_usd_p90: float
    extra_cost_usd: float
    on_time_pp: float
    net_benefit_p10: float
    net_benefit_p50: float
    net_benefit_p90: float
    fan: np.ndarray | None = None          # (3, P, K) p10/p50/p90 of stock at Comparison.fan_hours
    stock_mean: np.ndarray | None = None   # (P, K) mean stock over all runs at Comparison.fan_hours
    net_benefit_runs: np.ndarray | None = field(default=None, repr=False)

    def figures(self) -> dict:
        """The headline numbers (no per-key arrays)."""
        return {"name": self.name, "kind": self.kind, "params": self.params,
                "stockout_probability_any": round(self.stockout_probability_any, 4),
                "lost_units_p50": round(self.lost_units_p50, 1), "lost_units_p90": round(self.lost_units_p90, 1),
                "lost_sales_usd_p50": round(self.lost_sales_usd_p50, 2),
                "lost_sales_usd_p90": round(self.lost_sales_usd_p90, 2),
                "extra_cost_usd": round(self.extra_cost_usd, 2), "on_time_pp": round(self.on_time_pp, 2),
                "net_benefit_p10": round(self.net_benefit_p10, 2), "net_benefit_p50": round(self.net_benefit_p50, 2),
                "net_benefit_p90": round(self.net_benefit_p90, 2)}


@dataclass
class Comparison:
    scenario: object
    outcomes: list[Outcome]                 # do_nothing first among the responses, in the order given
    baseline: Outcome                       # no disruption, no response
    winner: str
    runs: int
    seed: int
    horizon_h: int
    now: object
    sku: list[str]
    warehouse: list[str]
    fan_hours: np.ndarray
    elapsed_s: float
    method: str
    demand_source: str

    def outcome(self, name: str) -> Outcome:
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(name)

    def to_json(self, *, per_key: bool = True, fan: bool = False) -> dict:
        def one(o: Outcome) -> dict:
            d = o.figures()
            if per_key:
                d["per_key"] = [{"sku": s, "warehouse_id": w,
                                 "stockout_probability": round(float(o.stockout_probability[k]), 4),
                                 "stockout_hours_p50": round(float(o.stockout_hours_p50[k]), 1),
                                 "stockout_hours_p90": round(float(o.stockout_hours_p90[k]), 1)}
                                for k, (s, w) in enumerate(zip(self.sku, self.warehouse))]
            if fan and o.fan is not None:
                d["fan"] = {"p10": o.fan[0].round(1).tolist(), "p50": o.fan[1].round(1).tolist(),
                            "p90": o.fan[2].round(1).tolist()}
            return d
        out = {"scenario": self.scenario.to_dict(), "runs": self.runs, "seed": self.seed,
               "horizon_h": self.horizon_h, "now": self.now.isoformat(), "method": self.method,
               "demand_source": self.demand_source, "elapsed_s": round(self.elapsed_s, 3),
               "winner": self.winner, "baseline": one(self.baseline),
               "responses": [one(o) for o in self.outcomes]}
        if fan:
            out["fan_hours"] = self.fan_hours.tolist()
        return out


def _p(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if len(x) else 0.0


def summarise(net, scenario, prep, totals, *, runs: int, seed: int, elapsed_s: float, method: str) -> Comparison:
    lost_value, lost_usd, lost_units = totals.lost_value, totals.lost_usd, totals.lost_units   # (S, runs)
    on_time_share = totals.on_time / np.maximum(totals.asked, 1e-9)
    dn = next(i for i, r in enumerate(prep.slot_response) if r is not None and r.kind == "do_nothing")
    outcomes = []
    for s, name in enumerate(prep.names):
        resp = prep.slot_response[s]
        benefit = (lost_value[dn] - lost_value[s]) - (prep.extra_cost[s] - prep.extra_cost[dn])
        out_h = totals.out_hours[s]
        outcomes.append(Outcome(
            name=name, kind=resp.kind if resp else "baseline",
            params=resp.model_dump(exclude={"kind"}) if resp else {},
            stockout_probability=(out_h > 0).mean(axis=0), stockout_probability_any=float((out_h.sum(axis=1) > 0).mean()),
            stockout_hours_p50=np.percentile(out_h, 50, axis=0), stockout_hours_p90=np.percentile(out_h, 90, axis=0),
            lost_units_p50=_p(lost_units[s], 50), lost_units_p90=_p(lost_units[s], 90),
            lost_sales_usd_p50=_p(lost_usd[s], 50), lost_sales_usd_p90=_p(lost_usd[s], 90),
            extra_cost_usd=float(prep.extra_cost[s]),
            on_time_pp=_p((on_time_share[s] - on_time_share[0]) * 100, 50),
            net_benefit_p10=_p(benefit, 10), net_benefit_p50=_p(benefit, 50), net_benefit_p90=_p(benefit, 90),
            fan=None if totals.fan is None else totals.fan[:, :, s, :],
            stock_mean=None if totals.stock_mean is None else totals.stock_mean[:, s, :],
            net_benefit_runs=benefit))
    by_name = {o.name: o for o in outcomes}
    baseline, responses = by_name["baseline"], [by_name[r.name] for r in prep.responses]
    return Comparison(scenario, responses, baseline, winner(responses), runs, seed, scenario.horizon_h, net.now,
                      [str(x) for x in net.sku], [str(x) for x in net.warehouse], totals.fan_hours, elapsed_s,
                      method, net.demand_source)


def winner(outcomes: list[Outcome]) -> str:
    """Best net benefit p50; within TIE_USD of the best, the cheapest."""
    best = max(o.net_benefit_p50 for o in outcomes)
    close = [o for o in outcomes if o.net_benefit_p50 >= best - TIE_USD]
    return min(close, key=lambda o: (o.extra_cost_usd, -o.net_benefit_p50)).name
