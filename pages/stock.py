"""Stock: every SKU × warehouse against its three watermarks (safety / warning / limit), with days of
supply, hours to stockout and what is inbound; then the history of one sku × warehouse."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tower.ui import caps, charts, fmt, forecast_chart, kiosk
from tower.ui.frame import context

OVER_COLOUR = "#2f6fb5"  # more than twice the planned cover: not a danger, but money sitting still

ctx = context()
st.title(ctx.t("stock.title"))

grid = ctx.query("pages/stock_health")
if grid.empty:
    st.info(ctx.t("stock.empty"))
    st.stop()

counts = grid["status"].value_counts()
cols = st.columns(4)
cols[0].metric(ctx.t("stock.red"), fmt.number(counts.get("red", 0), ctx.lang))
cols[1].metric(ctx.t("stock.yellow"), fmt.number(counts.get("yellow", 0), ctx.lang))
cols[2].metric(ctx.t("stock.min_hours"), fmt.hours(grid["hours_to_stockout"].min(), ctx.lang))
cols[3].metric(ctx.t("stock.inbound_units"), fmt.number(grid["inbound_qty"].sum(), ctx.lang))


def history_figure(history: pd.DataFrame, look: charts.Look) -> go.Figure:
    """Available units over time with the pair's current watermarks as dashed lines."""
    fig = go.Figure(go.Scatter(x=history["observed_at"], y=history["available"], mode="lines+markers",
                               line_shape="hv", name=look.t("stock.col_available"), line={"color": charts.ACTUAL}))
    last = history.iloc[-1]
    for col, key, colour in (("safety_qty", "stock.col_safety", charts.RAG["green"]),
                             ("warning_qty", "stock.col_warning", charts.RAG["yellow"]),
                             ("limit_qty", "stock.col_limit", charts.RAG["red"])):
        if pd.notna(last[col]):  # no line for a watermark the policy does not set
            fig.add_hline(y=float(last[col]), line_dash="dash", line_color=colour,
                          annotation_text=f"{look.t(key)} {fmt.number(last[col], look.lang)}",
                          annotation_position="top left")
    fig.update_layout(height=420 if look.kiosk else 340, yaxis_title=look.t("stock.col_available"))
    return fig


STATUSES = ("red", "yellow", "green", "over")  # the ones with a colour; "unknown" (no policy) has none


def rag_cell(status: str) -> str:
    if status not in STATUSES:
        return ""
    colour = OVER_COLOUR if status == "over" else charts.rag_color(status)
    return f"background-color: {colour}; color: white; font-weight: 600"


def wall_class(status) -> str:
    """A cell's class on a wall screen's static table (tower.ui.kiosk: the same colours as rag_cell)."""
    return f"rag-{status}" if status in STATUSES else ""


# ── the grid: available units, each cell coloured by its status ─────────────────────────────────
st.subheader(ctx.t("stock.grid"))
# the SKUs of the worst pairs first (grid is worst first), as many as a styled grid holds
skus = list(dict.fromkeys(grid["sku"]))
fits = caps.grid_rows(grid["warehouse_id"].nunique())
shown_skus = skus[:min(fits, kiosk.rows(ctx, caps.KIOSK_GRID_SKUS, fits))]
on_grid = grid[grid["sku"].isin(shown_skus)]
available = on_grid.pivot_table(index="sku", columns="warehouse_id", values="available", aggfunc="first")
available = available.reindex(shown_skus).rename_axis(index=ctx.t("stock.col_sku"), columns=None)
status = on_grid.pivot_table(index="sku", columns="warehouse_id", values="status", aggfunc="first")
status = status.reindex_like(available)
if ctx.kiosk:  # a static table: pandas' Styler took a third of a wall screen's turn on this page
    kiosk.table(available.map(lambda v: fmt.number(v, ctx.lang)), ctx,
                cell_classes={c: [f"num {wall_class(s)}" for s in status[c]] for c in status.columns})
else:
    st.dataframe(available.style.format(lambda v: fmt.number(v, ctx.lang)).apply(
        lambda _: status.map(lambda s: rag_cell(s) if isinstance(s, str) else ""), axis=None), width="stretch")
st.caption(ctx.t("stock.grid_note"))
if len(shown_skus) < len(skus):
    st.caption(ctx.t("stock.grid_capped_wall" if ctx.kiosk else "stock.grid_capped",  # a wall has no filters
                     shown=fmt.number(len(shown_skus), ctx.lang), total=fmt.number(len(skus), ctx.lang)))

# ── detail, worst first ─────────────────────────────────────────────────────────────────────────
listed, left_out = caps.head(grid, kiosk.rows(ctx, caps.KIOSK_DETAIL_ROWS, caps.STOCK_DETAIL_ROWS))
detail = listed.assign(
    status_label=listed["status"].map(lambda s: ctx.t(f"stock.status_{s}")),
    next_inbound_eta=listed["next_inbound_eta"].map(lambda t: fmt.ts(t, ctx.lang)),
    next_po_ship_date=listed["next_po_ship_date"].map(lambda t: fmt.ts(t, ctx.lang)),
)[["sku", "warehouse_id", "status_label", "available", "limit_qty", "warning_qty", "safety_qty", "days_of_supply",
   "hours_to_stockout", "units_per_hour", "inbound_qty", "next_inbound_eta", "next_po_ship_date", "status"]]
digits = {"available": 0, "limit_qty": 0, "warning_qty": 0, "safety_qty": 0, "inbound_qty": 0,
          "days_of_supply": 1, "hours_to_stockout": 1, "units_per_hour": 1}
detail_labels = {
    "sku": ctx.t("stock.col_sku"), "warehouse_id": ctx.t("stock.col_warehouse"),
    "status_label": ctx.t("stock.col_status"), "available": ctx.t("stock.col_available"),
    "limit_qty": ctx.t("stock.col_limit"), "warning_qty": ctx.t("stock.col_warning"),
    "safety_qty": ctx.t("stock.col_safety"), "days_of_supply": ctx.t("stock.col_days"),
    "hours_to_stockout": ctx.t("stock.col_hours"), "units_per_hour": ctx.t("stock.col_rate"),
    "inbound_qty": ctx.t("stock.col_inbound"),
    "next_inbound_eta": ctx.t("stock.col_inbound_eta"), "next_po_ship_date": ctx.t("stock.col_next_ship"),
}
if ctx.kiosk:
    as_text = {c: detail[c].map(lambda v, d=d: fmt.number(v, ctx.lang, d)) for c, d in digits.items()}
    kiosk.table(detail.drop(columns="status").assign(**as_text), ctx, hide_index=True, column_config=detail_labels,
                cell_classes={**{c: ["num"] * len(detail) for c in digits},
                              "status_label": detail["status"].map(wall_class).tolist()})
else:  # Styler formats win over column_config
    st.dataframe(
        detail.style.apply(lambda r: [rag_cell(r["status"]) if c == "status_label" else "" for c in r.index], axis=1)
        .format({c: f"{{:,.{d}f}}".format for c, d in digits.items()}, na_rep=fmt.MISSING),
        hide_index=True, width="stretch", column_order=[c for c in detail.columns if c != "status"],
        column_config=detail_labels)

if left_out:
    st.caption(ctx.t("stock.detail_capped_wall" if ctx.kiosk else "stock.detail_capped",
                     shown=fmt.number(len(listed), ctx.lang), total=fmt.number(len(grid), ctx.lang)))

# ── history of one sku × warehouse with its watermark lines ─────────────────────────────────────
st.subheader(ctx.t("stock.history"))
pairs = list(dict.fromkeys(zip(listed["sku"], listed["warehouse_id"])))  # worst first, as the detail
pair = st.selectbox(ctx.t("stock.pick"), pairs, format_func=" @ ".join, key="stock_pair")
history = ctx.query("pages/stock_history", sku=pair[0], warehouse_id=pair[1])
if history.empty:
    st.info(ctx.t("stock.no_history"))
else:
    charts.draw(history_figure, history[["observed_at", "available", "safety_qty", "warning_qty", "limit_qty"]],
                ctx, key="stock_history")

# ── Tower's own demand forecast beside the supplied plan (issue 14) ─────────────────────────────
forecast_chart.section(ctx, pair[0], pair[1])
