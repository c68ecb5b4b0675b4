"""Tower's own demand forecast beside the supplied plan (Stock page): the 95 % and 80 % prediction
bands, the expected units per hour, and the planning sheet's units for the same market."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tower.ui import charts, fmt

HOURS = 7 * 24          # a week ahead: long enough to see the daily and weekly pattern
BAND = "rgba(47, 128, 237, {alpha})"
CHARTED = ["hour", "mean", "lo80", "hi80", "lo95", "hi95", "plan_units"]


def figure(rows: pd.DataFrame, look: charts.Look) -> go.Figure:
    """The band chart. Rows: hour, mean, lo80, hi80, lo95, hi95, plan_units."""
    t = look.t
    own = rows.dropna(subset=["mean"])
    fig = go.Figure()
    for lo, hi, key, alpha in (("lo95", "hi95", "forecast.band95", 0.12), ("lo80", "hi80", "forecast.band80", 0.25)):
        fig.add_trace(go.Scatter(x=own["hour"], y=own[hi], mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip", name=t(key)))
        fig.add_trace(go.Scatter(x=own["hour"], y=own[lo], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=BAND.format(alpha=alpha), name=t(key)))
    fig.add_trace(go.Scatter(x=own["hour"], y=own["mean"], mode="lines", name=t("forecast.mean"),
                             line={"color": charts.ACTUAL}))
    plan = rows.dropna(subset=["plan_units"])
    if not plan.empty:
        fig.add_trace(go.Scatter(x=plan["hour"], y=plan["plan_units"], mode="lines", name=t("forecast.plan"),
                                 line={"color": charts.FORECAST, "dash": "dash"}))
    fig.update_layout(yaxis_title=t("forecast.units_per_hour"), height=420 if look.kiosk else 340)
    return fig


def section(ctx, sku: str, warehouse_id: str) -> None:
    """The forecast block for one SKU × warehouse (its market's forecast), or why there is none."""
    st.subheader(ctx.t("forecast.title"))
    rows = ctx.query("pages/stock_forecast", sku=sku, warehouse_id=warehouse_id, hours=HOURS)
    forecast = rows["mean"].notna().any()  # False with no rows too
    if not forecast:
        st.info(ctx.t("forecast.none"))
    if not rows.empty:  # without a forecast, the plan alone is still worth showing
        charts.draw(figure, rows[CHARTED], ctx, key="stock_forecast")  # one figure for every screen
    if not forecast:
        return
    market, model = rows["market"].dropna().iloc[0], rows["model"].dropna().iloc[0]
    fitted = rows["fitted_at"].dropna().iloc[0]
    own, plan = rows["mean"].sum(), rows["plan_units"].sum()
    st.caption(ctx.t("forecast.caption", market=market, model=model, fitted=fmt.ts(fitted, ctx.lang),
                     own=fmt.number(own, ctx.lang),
                     plan=fmt.number(plan, ctx.lang) if rows["plan_units"].notna().any() else fmt.MISSING))
