"""Suppliers: production progress per PO against plan, late POs, the tier mix against 70-20-10, and a
scorecard per supplier (lead time, on-time shipping, how long since it last reported)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tower.ui import charts, fmt
from tower.ui import frame
from tower.ui.frame import context

TIERS = ("primary", "backup", "emergency")  # the 70-20-10 plan is the tier_share KPI's (queries/kpi)

ctx = context()
st.title(ctx.t("suppliers.title"))

progress = ctx.query("pages/suppliers_po_progress")
scorecard = ctx.query("pages/suppliers_scorecard")
mix = ctx.kpi("tier_share", dimension="tier")
if progress.empty and scorecard.empty:
    st.info(ctx.t("suppliers.empty"))
    st.stop()

late = progress[progress["is_late"]] if not progress.empty else progress
behind = progress[progress["is_behind"]] if not progress.empty else progress
silent = scorecard["silent_hours"].max() if not scorecard.empty else None
off_plan = next((t.value for t in frame.kpi_tiles(ctx, ["tier_share"])), None)
cols = st.columns(4)
cols[0].metric(ctx.t("suppliers.late_pos"), fmt.number(len(late), ctx.lang))
cols[1].metric(ctx.t("suppliers.behind_pos"), fmt.number(len(behind), ctx.lang))
cols[2].metric(ctx.t("suppliers.off_plan"),
               ctx.t("suppliers.points", n=fmt.number(off_plan, ctx.lang, 1)) if pd.notna(off_plan) else fmt.MISSING)
cols[3].metric(ctx.t("suppliers.longest_silence"), fmt.hours(silent, ctx.lang))

# ── PO progress against the straight-line plan ──────────────────────────────────────────────────
st.subheader(ctx.t("suppliers.progress"))
if progress.empty:
    st.info(ctx.t("suppliers.no_pos"))
else:
    shown = progress.head(25 if ctx.kiosk else 40).iloc[::-1]  # worst first, at the top of the chart
    colour = [charts.RAG["red"] if late_ else charts.RAG["yellow"] if behind_ else charts.RAG["green"]
              for late_, behind_ in zip(shown["is_late"], shown["is_behind"])]
    fig = go.Figure()
    fig.add_bar(y=shown["po_id"], x=shown["produced_pct"], orientation="h", marker_color=colour,
                name=ctx.t("suppliers.produced"), customdata=shown[["supplier_name", "sku"]],
                hovertemplate="%{y} · %{customdata[0]} · %{customdata[1]}<br>%{x:.0f}%<extra></extra>")
    fig.add_scatter(y=shown["po_id"], x=shown["expected_pct"], mode="markers",
                    marker={"symbol": "line-ns-open", "size": 22, "line": {"width": 3}, "color": charts.FORECAST},
                    name=ctx.t("suppliers.expected"))
    fig.update_layout(height=max(260, 26 * len(shown)) + (120 if ctx.kiosk else 0),
                      xaxis={"range": [0, 105], "ticksuffix": "%"}, barmode="overlay")
    charts.show(fig, ctx)

    st.markdown(f"**{ctx.t('suppliers.late_title')}**")
    if late.empty:
        st.success(ctx.t("suppliers.no_late"))
    else:
        st.dataframe(
            late.assign(promised_ship_date=late["promised_ship_date"].map(lambda t: fmt.ts(t, ctx.lang)),
                        last_report_at=late["last_report_at"].map(lambda t: fmt.ts(t, ctx.lang)),
                        tier=late["tier"].map(lambda v: ctx.t(f"suppliers.tier_{v}"))),
            hide_index=True, width="stretch",
            column_order=["po_id", "supplier_name", "tier", "sku", "warehouse_id", "quantity_ordered",
                          "produced_pct", "shipped_pct", "promised_ship_date", "last_report_at"],
            column_config={
                "po_id": ctx.t("suppliers.col_po"), "supplier_name": ctx.t("suppliers.col_supplier"),
                "tier": ctx.t("suppliers.col_tier"), "sku": "SKU", "warehouse_id": ctx.t("suppliers.col_warehouse"),
                "quantity_ordered": st.column_config.NumberColumn(ctx.t("suppliers.col_ordered"), format="%d"),
                "produced_pct": st.column_config.NumberColumn(ctx.t("suppliers.produced"), format="%.0f%%"),
                "shipped_pct": st.column_config.NumberColumn(ctx.t("suppliers.col_shipped"), format="%.0f%%"),
                "promised_ship_date": ctx.t("suppliers.col_promised"),
                "last_report_at": ctx.t("suppliers.col_last_report"),
            },
        )

    po_id = st.selectbox(ctx.t("suppliers.pick_po"), progress["po_id"].tolist(), key="suppliers_po")
    history = ctx.query("pages/suppliers_po_history", po_id=po_id)
    if history.empty:
        st.info(ctx.t("suppliers.no_history"))
    else:
        fig = go.Figure()
        for col, key, colour in (("produced_pct", "suppliers.produced", charts.ACTUAL),
                                 ("qc_pct", "suppliers.qc", charts.PALETTE[2]),
                                 ("shipped_pct", "suppliers.col_shipped", charts.PALETTE[1])):
            fig.add_scatter(x=history["observed_at"], y=history[col] * 100, mode="lines+markers",
                            name=ctx.t(key), line={"color": colour, "shape": "hv"})
        fig.add_scatter(x=history["observed_at"], y=history["expected_pct"] * 100, mode="lines",
                        name=ctx.t("suppliers.expected"), line={"color": charts.FORECAST, "dash": "dash"})
        fig.update_layout(height=360 if ctx.kiosk else 300, yaxis={"range": [0, 105], "ticksuffix": "%"})
        charts.show(fig, ctx)

# ── volume share by tier against the plan ───────────────────────────────────────────────────────
st.subheader(ctx.t("suppliers.tier_mix"))
if mix.empty or not mix["n"].sum():
    st.info(ctx.t("suppliers.no_volume"))
else:
    by_tier = mix.set_index("dimension_value").reindex(TIERS)
    actual = by_tier["share_pct"].fillna(0.0).tolist()
    names = [ctx.t(f"suppliers.tier_{t}") for t in TIERS]
    fig = go.Figure([go.Bar(x=names, y=actual, name=ctx.t("suppliers.actual"), marker_color=charts.ACTUAL,
                            text=[f"{v:.0f}%" for v in actual], textposition="outside"),
                     go.Bar(x=names, y=by_tier["plan_pct"].tolist(), name=ctx.t("suppliers.plan"),
                            marker_color=charts.FORECAST)])
    fig.update_layout(barmode="group", height=340 if ctx.kiosk else 280, yaxis={"ticksuffix": "%"})
    charts.show(fig, ctx)
    st.caption(ctx.t("suppliers.tier_note", units=fmt.number(mix["n"].sum(), ctx.lang)))

# ── scorecard ───────────────────────────────────────────────────────────────────────────────────
st.subheader(ctx.t("suppliers.scorecard"))
if scorecard.empty:
    st.info(ctx.t("suppliers.no_suppliers"))
else:
    num = st.column_config.NumberColumn
    st.dataframe(
        scorecard.assign(
            tier=scorecard["tier"].map(lambda t: ctx.t(f"suppliers.tier_{t}") if t in TIERS else t),
            last_report_at=scorecard["last_report_at"].map(lambda t: fmt.ts(t, ctx.lang)),
            silent_for=scorecard["silent_hours"].map(lambda h: fmt.hours(h, ctx.lang)),
        ),
        hide_index=True, width="stretch",
        column_order=["name", "tier", "country", "lead_time_days", "actual_lead_days", "on_time_pct",
                      "pos_due", "open_pos", "late_pos", "last_report_at", "silent_for"],
        column_config={
            "name": ctx.t("suppliers.col_supplier"), "tier": ctx.t("suppliers.col_tier"),
            "country": ctx.t("suppliers.col_country"),
            "lead_time_days": num(ctx.t("suppliers.col_quoted_lead"), format="%.1f"),
            "actual_lead_days": num(ctx.t("suppliers.col_actual_lead"), format="%.1f"),
            "on_time_pct": num(ctx.t("suppliers.col_on_time"), format="%.0f%%"),
            "pos_due": num(ctx.t("suppliers.col_due"), format="%d"),
            "open_pos": num(ctx.t("suppliers.col_open"), format="%d"),
            "late_pos": num(ctx.t("suppliers.col_late"), format="%d"),
            "last_report_at": ctx.t("suppliers.col_last_report"),
            "silent_for": ctx.t("suppliers.col_silent"),
        },
    )
