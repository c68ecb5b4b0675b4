"""The twin's results as the plain tables the What-if page draws. Everything reads the comparison's
JSON (tower.twin.outcome.Comparison.to_json(fan=True)): a run just finished and a stored run opened
by ?run=ID are drawn the same way. Only this module knows that JSON's field names."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

COMPARISON_COLUMNS = ["response", "p_stockout", "stockout_h_p50", "stockout_h_p90", "lost_units_p50",
                      "lost_sales_p50", "lost_sales_p90", "extra_cost", "on_time", "net_p50", "net_p90",
                      "winner"]


def responses(result: dict) -> list[dict]:
    return list(result.get("responses") or [])


def _total(per_key: list[dict], field: str) -> float:
    return float(sum(float(k.get(field) or 0.0) for k in per_key))


def comparison_table(result: dict) -> pd.DataFrame:
    """One row per response: the probability that any SKU × warehouse runs out, stockout hours
    summed over SKU × warehouses (each one's p50 / p90: one always out of stock would otherwise
    hide every difference), the money figures as the twin gives them, and which row won."""
    rows = []
    for r in responses(result):
        per_key = r.get("per_key") or []
        rows.append({
            "response": r["name"],
            "p_stockout": float(r["stockout_probability_any"]),
            "stockout_h_p50": _total(per_key, "stockout_hours_p50"),
            "stockout_h_p90": _total(per_key, "stockout_hours_p90"),
            "lost_units_p50": float(r["lost_units_p50"]),
            "lost_sales_p50": float(r["lost_sales_usd_p50"]),
            "lost_sales_p90": float(r["lost_sales_usd_p90"]),
            "extra_cost": float(r["extra_cost_usd"]),
            "on_time": float(r["on_time_pp"]),
            "net_p50": float(r["net_benefit_p50"]),
            "net_p90": float(r["net_benefit_p90"]),
            "winner": r["name"] == result.get("winner"),
        })
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def key_text(key) -> str:
    """A (sku, warehouse) key as "GL-BOWL-01 @ US-WEST-LA"."""
    return " @ ".join(map(str, key)) if isinstance(key, (tuple, list)) else str(key)


def keys(result: dict) -> list[tuple[str, str]]:
    """The SKU × warehouse keys in the twin's order (the order of every per-key array)."""
    first = next(iter(responses(result)), {})
    return [(k["sku"], k["warehouse_id"]) for k in first.get("per_key") or []]


def per_key_table(result: dict) -> pd.DataFrame:
    """Stockout probability per SKU × warehouse (rows) and response (columns), worst first."""
    frame = pd.DataFrame({r["name"]: {key_text((k["sku"], k["warehouse_id"])): float(k["stockout_probability"])
                                      for k in r.get("per_key") or []} for r in responses(result)})
    if frame.empty:
        return frame
    return frame.loc[frame.max(axis=1).sort_values(ascending=False, kind="stable").index]


def fan_keys(result: dict) -> list[tuple[str, str]]:
    """The keys with a fan: first those where the responses differ most (in stockout hours), then
    the most at risk (ties keep the twin's order)."""
    if not result.get("fan_hours") or not any("fan" in r for r in responses(result)):
        return []
    hours: dict = {}
    for r in responses(result):
        for k in r.get("per_key") or []:
            hours.setdefault((k["sku"], k["warehouse_id"]), []).append(float(k["stockout_hours_p50"]))
    spread = {key: (max(v) - min(v), max(v)) for key, v in hours.items()}
    return sorted(keys(result), key=lambda k: tuple(-x for x in spread.get(k, (0.0, 0.0))))


def fan_frame(result: dict, key) -> pd.DataFrame:
    """response, at, p10, p50, p90 for one key: stock at the fan's hours after the network's now."""
    order = keys(result)
    k = order.index(tuple(key))
    start = datetime.fromisoformat(result["now"])
    at = [start + timedelta(hours=float(h)) for h in result["fan_hours"]]
    parts = [pd.DataFrame({"response": r["name"], "at": at,
                           **{q: [row[k] for row in r["fan"][q]] for q in ("p10", "p50", "p90")}})
             for r in responses(result) if "fan" in r]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["response", "at", "p10", "p50", "p90"])


def winner_row(result: dict) -> dict | None:
    return next((r for r in responses(result) if r["name"] == result.get("winner")), None)


def decision_cells(cells: list[dict]) -> pd.DataFrame:
    """hours_to_stockout, inbound_eta_h, demand_ratio, winner: one row per cell of the sweep."""
    return pd.DataFrame(cells, columns=["hours_to_stockout", "inbound_eta_h", "demand_ratio", "winner"])


def threshold_rows(found: dict) -> pd.DataFrame:
    """The numeric thresholds of decision.thresholds (not the playbook or the response named)."""
    rows = [(k, float(v)) for k, v in found.items() if k not in ("playbook", "response") and v is not None]
    return pd.DataFrame(sorted(rows), columns=["name", "value"])


def disruption_rows(scenario) -> list[tuple[str, dict]]:
    """(kind, its parameters) per disruption of the scenario, for the page to put in words."""
    return [(d["kind"], {k: v for k, v in d.items() if k != "kind"}) for d in scenario.to_dict()["disruptions"]]


def affected(scenario) -> dict[str, set]:
    """What the scenario disrupts by id: suppliers, nodes (ports, hubs), markets."""
    out: dict[str, set] = {"suppliers": set(), "nodes": set(), "markets": set()}
    for _kind, params in disruption_rows(scenario):
        if params.get("supplier"):
            out["suppliers"].add(str(params["supplier"]))
        if params.get("node"):
            out["nodes"].add(str(params["node"]))
        for market in [*(params.get("markets") or []), *([params["market"]] if params.get("market") else [])]:
            out["markets"].add(str(market))
    return out
