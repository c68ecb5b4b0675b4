"""The twin's results as the plain tables the What-if page draws: a Comparison (tower.twin.simulate)
becomes the comparison table, the per SKU × warehouse table and the stock fan; a DecisionTable
(tower.twin.decision) the heatmap's cells; a Scenario the list of what it disrupts. Only this
module knows the twin's attribute names, so the page and the charts stay plain pandas."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

COMPARISON_COLUMNS = ["response", "p_stockout", "stockout_h_p50", "stockout_h_p90", "lost_units_p50",
                      "lost_sales_p50", "lost_sales_p90", "extra_cost", "on_time", "net_p50", "net_p90",
                      "winner"]


def _worst(per_key: dict) -> float:
    values = [float(v) for v in (per_key or {}).values()]
    return max(values) if values else 0.0


def _total(per_key: dict) -> float:
    return float(sum(float(v) for v in (per_key or {}).values()))


def comparison_table(comparison) -> pd.DataFrame:
    """One row per response: the worst SKU × warehouse's stockout probability, stockout hours summed
    over every SKU × warehouse, money figures as the twin gives them, and which row won."""
    rows = []
    for name, o in comparison.outcomes.items():
        rows.append({
            "response": name,
            "p_stockout": _worst(o.stockout_probability),
            "stockout_h_p50": _total(o.stockout_hours_p50),
            "stockout_h_p90": _total(o.stockout_hours_p90),
            "lost_units_p50": float(o.lost_units_p50),
            "lost_sales_p50": float(o.lost_sales_p50),
            "lost_sales_p90": float(o.lost_sales_p90),
            "extra_cost": float(o.extra_cost),
            "on_time": float(o.on_time_impact),
            "net_p50": float(o.net_benefit_p50),
            "net_p90": float(o.net_benefit_p90),
            "winner": name == comparison.winner,
        })
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def key_text(key) -> str:
    """A (sku, warehouse) key as "GL-BOWL-01 @ US-WEST-LA"."""
    return " @ ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def per_key_table(comparison) -> pd.DataFrame:
    """Stockout probability per response (columns) and SKU × warehouse (rows), worst first."""
    frame = pd.DataFrame({name: {key_text(k): float(v) for k, v in o.stockout_probability.items()}
                          for name, o in comparison.outcomes.items()})
    if frame.empty:
        return frame
    return frame.loc[frame.max(axis=1).sort_values(ascending=False).index]


def fan_keys(comparison) -> list:
    """The SKU × warehouse keys that have a fan, the most at risk first."""
    risk: dict = {}
    for o in comparison.outcomes.values():
        for key, p in o.stockout_probability.items():
            risk[key] = max(risk.get(key, 0.0), float(p))
    keys = list(next(iter(comparison.outcomes.values())).fan) if comparison.outcomes else []
    return sorted(keys, key=lambda k: -risk.get(k, 0.0))


def fan_frame(comparison, key, start: datetime) -> pd.DataFrame:
    """response, at, p10, p50, p90 for one key (the fan is stored as 3 × hours per key)."""
    parts = []
    for name, o in comparison.outcomes.items():
        bands = np.asarray(o.fan[key], dtype=float)
        hours = bands.shape[-1]
        at = [start + timedelta(hours=h) for h in range(hours)]
        parts.append(pd.DataFrame({"response": name, "at": at, "p10": bands[0], "p50": bands[1], "p90": bands[2]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["response", "at", "p10", "p50", "p90"])


def decision_cells(table) -> pd.DataFrame:
    """hours_to_stockout, demand_ratio, winner: one row per cell of the sweep."""
    return pd.DataFrame(table.cells, columns=["hours_to_stockout", "demand_ratio", "winner"])


def threshold_rows(thresholds) -> pd.DataFrame:
    return pd.DataFrame(sorted(dict(thresholds).items()), columns=["name", "value"])


def disruption_rows(scenario) -> list[tuple[str, dict]]:
    """(kind, its parameters) per disruption of the scenario, for the page to put in words."""
    return [(d.kind, {k: v for k, v in vars(d).items() if k != "kind"}) for d in scenario.disruptions]


def affected(scenario) -> dict[str, set]:
    """What the scenario disrupts by id: suppliers, nodes (ports, hubs), carriers, countries."""
    out: dict[str, set] = {"suppliers": set(), "nodes": set(), "carriers": set(), "countries": set()}
    for kind, params in disruption_rows(scenario):
        for field, bucket in (("supplier_id", "suppliers"), ("node_id", "nodes"), ("carrier", "carriers"),
                              ("country", "countries")):
            value = params.get(field)
            if value:
                out[bucket].add(str(value))
    return out
