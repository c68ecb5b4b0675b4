"""Stockouts with their lost-sales estimate, and per-link scorecards (supplier, carrier, warehouse,
market) with the stockout hours each link carried."""
from __future__ import annotations

import pandas as pd

from tower.retro.data import run
from tower.retro.windows import Window

DEFAULT_LOOKBACK_HOURS = 4.0     # pre-stockout pace: the same 4 h the hours-to-stockout KPI uses
LINK_TYPES = ("supplier", "carrier", "warehouse", "market")

def stockouts(db, window: Window, params: dict,
              lookback_hours: float = DEFAULT_LOOKBACK_HOURS) -> pd.DataFrame:
    """Stockout spells in the window with the lost-sales estimate of each:
    rate_per_hour = units sold in the `lookback_hours` before it went to 0 ÷ lookback_hours;
    lost_units = stockout hours (inside the window) × rate_per_hour; lost_sales = lost_units × price."""
    lookback = max(float(lookback_hours), 0.25)
    found = run(db, "retro/stockout_episodes", {**window.params(params), "lookback_hours": lookback})
    if found.empty:
        return found.assign(rate_per_hour=pd.Series(dtype=float), lost_units=pd.Series(dtype=float),
                            lost_sales=pd.Series(dtype=float))
    out = found.copy()
    out["rate_per_hour"] = out["pre_units"].astype(float) / lookback
    out["lost_units"] = out["hours"].astype(float) * out["rate_per_hour"]
    out["lost_sales"] = out["lost_units"] * pd.to_numeric(out["unit_price"], errors="coerce").fillna(0.0)
    return out


def lost_sales_total(episodes: pd.DataFrame) -> dict:
    if episodes.empty:
        return {"stockout_hours": 0.0, "lost_units": 0.0, "lost_sales": 0.0, "spells": 0}
    return {"stockout_hours": float(episodes["hours"].sum()),
            "lost_units": float(episodes["lost_units"].sum()),
            "lost_sales": float(episodes["lost_sales"].sum()), "spells": len(episodes)}


# ── per-link scorecards ────────────────────────────────────────────────────────────────────────
def scorecards(db, window: Window, params: dict, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """retro/scorecard plus stockout hours per link: a warehouse's are its pairs' hours, a market's
    those of the warehouses serving it, a supplier's those of the sku × warehouse pairs it has
    purchase orders for; carriers hold no stock (NaN)."""
    cards = run(db, "retro/scorecard", window.params(params))
    episodes = stockouts(db, window, params) if episodes is None else episodes
    hours = {}
    if not episodes.empty:
        hours["warehouse"] = episodes.groupby("warehouse_id")["hours"].sum()
        hours["market"] = episodes.groupby("market")["hours"].sum()
        pairs = db.query("retro/supplier_pairs")
        if len(pairs):
            per_pair = episodes.groupby(["sku", "warehouse_id"], as_index=False)["hours"].sum()
            hours["supplier"] = pairs.merge(per_pair, on=["sku", "warehouse_id"]).groupby(
                "supplier_id")["hours"].sum()
    for link_type, series in hours.items():  # a link with stockouts but no other activity still shows
        known = set(cards.loc[cards["link_type"] == link_type, "link_id"])
        extra = [{"link_type": link_type, "link_id": k, "name": k, "n": 0, "on_time_pct": None,
                  "delays": 0, "exceptions": 0} for k in series.index if k not in known]
        if extra:
            # in the cards' own dtypes: an all-NULL on_time_pct column must not decide the result's
            extra = pd.DataFrame(extra).astype(cards.dtypes[list(extra[0])].to_dict())
            cards = pd.concat([cards, extra], ignore_index=True)

    def stockout_hours(row) -> float:
        if row["link_type"] == "carrier":
            return float("nan")
        return float(hours.get(row["link_type"], pd.Series(dtype=float)).get(row["link_id"], 0.0))

    cards["stockout_hours"] = cards.apply(stockout_hours, axis=1) if len(cards) else pd.Series(dtype=float)
    return cards.sort_values(["link_type", "delays", "link_id"], ascending=[True, False, True],
                             ignore_index=True)

