"""The pandas peer: what a typical Streamlit dashboard does instead of Tower's semantic layer — load
the tables a page needs into DataFrames, then compute the KPIs and a breakdown in pandas.

The KPI code is tests/kpi_reference.py: independent pandas implementations of every definition in
queries/kpi/, which the test suite already holds equal to the SQL. Here it is timed two ways:
`load` (read the tables from the DuckDB file into DataFrames, as a dashboard does on each refresh
without a cache) and `compute` (the same KPIs on frames cached between refreshes)."""
from __future__ import annotations

import os
from datetime import timedelta

import duckdb
import pandas as pd

from tests import kpi_reference as ref

# What the overview's headline needs (orders and their parcels, lines, returns, answers, stock and
# the plan) — the tables a dashboard would load.
TABLES = ("orders", "shipments", "order_lines", "returns", "nps_responses", "stock_observations",
          "warehouses", "forecasts")
KPIS = ("on_time_rate", "nps", "return_rate", "hours_to_stockout", "sales_vs_forecast")
BREAKDOWN = ("on_time_rate", "carrier")


def load(path: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """The tables as DataFrames (read-only, timestamps in UTC)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set timezone = 'UTC'")
        return {t: con.table(t).df() for t in TABLES}
    finally:
        con.close()


# KPIs compared over a longer window than the live 24 h: the return rate's cohort is the orders
# delivered in the window, and returns come days after delivery, so over 24 h it is 0.0 at every
# scale (both sides agreed on nothing); over a week its cohort has returns.
WINDOW_HOURS = {"return_rate": 24 * 7}


def window(now) -> dict:
    """The 24-h live window at `now`, in tower.kpis' parameter names."""
    return {"start": now - timedelta(hours=24), "end": now, "now": now,
            "merchant": None, "channel": None, "market": None}


def kpi_window(name: str, params: dict) -> dict:
    """`params` with the window `name` is compared over (WINDOW_HOURS), ending where it ends."""
    hours = WINDOW_HOURS.get(name)
    return params if hours is None else {**params, "start": params["end"] - timedelta(hours=hours)}


def compute(frames: dict[str, pd.DataFrame], params: dict) -> dict:
    """{kpi: value} plus {"on_time_rate by carrier": {carrier: value}} (one groupby, as a dashboard
    would draw its bar chart)."""
    out = {name: getattr(ref, name)(frames, kpi_window(name, params))[0] for name in KPIS}
    delivered = ref._delivered(frames, params)
    delivered = delivered[delivered["promised_delivery_at"].notna() & delivered["carrier"].notna()]
    on_time = delivered["delivered_at"] <= delivered["promised_delivery_at"]
    out["on_time_rate by carrier"] = (100.0 * on_time.groupby(delivered["carrier"]).mean()).to_dict()
    return out
