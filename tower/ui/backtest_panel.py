"""The twin's last backtest against the sandbox world (for the What-if page): how far the twin's
median was from what the world did, and whether the world fell inside the twin's p10–p90 band."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tower.ui import fmt


def summary(last: pd.DataFrame) -> dict | None:
    """The headline of a stored backtest (rows of twin_backtests for one run), or None if empty."""
    if last.empty:
        return None
    lost = last[last["metric"] == "lost_units"]
    shelves = last[last["metric"].str.startswith("stockout_hours:")]
    return {
        "scenario": last["scenario"].iloc[0], "start_at": last["start_at"].iloc[0],
        "horizon_h": int(last["horizon_h"].iloc[0]), "runs": int(last["runs"].iloc[0]),
        "inside": int(last["inside"].sum()), "metrics": len(last),
        "shelves_inside": int(shelves["inside"].sum()), "shelves": len(shelves),
        "lost_error": float(lost["error"].iloc[0]) if not lost.empty else None,
        "shelf_mae_h": float(shelves["error"].abs().mean()) if not shelves.empty else None,
    }


def section(ctx) -> None:
    """Render the last backtest (or say there is none) with `ctx` (tower.ui.context.Context)."""
    st.subheader(ctx.t("backtest.title"))
    last = ctx.query("twin/backtest_last")
    head = summary(last)
    if head is None:
        st.info(ctx.t("backtest.none"))
        return
    lang = ctx.lang
    cols = st.columns(3)
    cols[0].metric(ctx.t("backtest.inside"), f"{head['inside']} / {head['metrics']}")
    cols[1].metric(ctx.t("backtest.shelf_error"), fmt.hours(head["shelf_mae_h"], lang))
    cols[2].metric(ctx.t("backtest.lost_error"), fmt.number(head["lost_error"], lang, signed=True))
    st.caption(ctx.t("backtest.caption", scenario=head["scenario"], start=fmt.ts(head["start_at"], lang),
                     hours=fmt.number(head["horizon_h"], lang), runs=fmt.number(head["runs"], lang)))
    st.dataframe(last[["metric", "observed", "p10", "p50", "p90", "inside", "error"]], hide_index=True,
                 width="stretch", column_config={
                     "metric": ctx.t("backtest.col_metric"), "observed": ctx.t("backtest.col_observed"),
                     "inside": ctx.t("backtest.col_inside"), "error": ctx.t("backtest.col_error")})
