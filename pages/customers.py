"""Customers: on-time delivery, delivery speed, NPS, returns and order accuracy — the headline for the
window, how each moved over time, and which carrier / market / merchant / channel drives them."""
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from tower.ui import charts, fmt
from tower.ui.frame import context

DIMENSIONS = ("carrier", "market", "merchant", "channel")
HOURLY_UP_TO_H = 72  # windows up to 3 days trend by hour, longer ones by day

ctx = context()
st.title(ctx.t("customers.title"))


def headline(name: str) -> tuple[float | None, int]:
    df = ctx.query(f"kpi/{name}")
    if df.empty:
        return None, 0
    value = df["value"].iloc[0]
    return (None if pd.isna(value) else float(value)), int(df["n"].iloc[0] or 0)


on_time, on_time_n = headline("on_time_rate")
p50, delivered_n = headline("delivery_speed_p50_hours")
p90, _ = headline("delivery_speed_p90_hours")
nps, nps_n = headline("nps")
returns, _ = headline("return_rate")
accuracy, shipped_n = headline("order_accuracy")

if not (on_time_n or delivered_n or nps_n or shipped_n):
    st.info(ctx.t("customers.empty"))
    st.stop()

n = lambda x: fmt.number(x, ctx.lang)
cols = st.columns(5)
cols[0].metric(ctx.t("customers.on_time"), fmt.pct(on_time / 100 if on_time is not None else None, ctx.lang),
               help=ctx.t("customers.n_delivered", n=n(on_time_n)))
cols[1].metric(ctx.t("customers.speed"), f"{fmt.number(p50, ctx.lang, 1)} / {fmt.number(p90, ctx.lang, 1)} h",
               help=ctx.t("customers.speed_help", n=n(delivered_n)))
cols[2].metric(ctx.t("customers.nps"), fmt.number(nps, ctx.lang, signed=True),
               help=ctx.t("customers.nps_help"))
cols[2].caption(ctx.t("customers.n_responses", n=n(nps_n)))
cols[3].metric(ctx.t("customers.return_rate"), fmt.pct(returns / 100 if returns is not None else None, ctx.lang))
cols[4].metric(ctx.t("customers.accuracy"), fmt.pct(accuracy / 100 if accuracy is not None else None, ctx.lang),
               help=ctx.t("customers.n_shipped", n=n(shipped_n)))

# ── trends ──────────────────────────────────────────────────────────────────────────────────────
f = ctx.filters
window_h = (min(f.end, ctx.now) - f.start).total_seconds() / 3600 if f.start and f.end else HOURLY_UP_TO_H + 1
bucket = "hour" if window_h <= HOURLY_UP_TO_H else "day"
trend = ctx.query("pages/customers_trend", bucket=bucket)
st.subheader(ctx.t("customers.trends", bucket=ctx.t(f"customers.bucket_{bucket}")))
if trend.empty:
    st.info(ctx.t("customers.no_trend"))
else:
    panels = [("on_time_rate", "customers.on_time", "%"), ("p50_hours", "customers.speed_p50", " h"),
              ("nps", "customers.nps", ""), ("return_rate", "customers.return_rate", "%"),
              ("order_accuracy", "customers.accuracy", "%"), ("p90_hours", "customers.speed_p90", " h")]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[ctx.t(k) for _, k, _ in panels],
                        vertical_spacing=0.18, horizontal_spacing=0.06)
    for i, (col, key, suffix) in enumerate(panels):
        fig.add_trace(go.Scatter(x=trend["bucket_start"], y=trend[col], mode="lines+markers", name=ctx.t(key),
                                 line={"color": charts.PALETTE[i % len(charts.PALETTE)]}, connectgaps=False,
                                 hovertemplate=f"%{{x}}<br>%{{y:.1f}}{suffix}<extra></extra>"),
                      row=i // 3 + 1, col=i % 3 + 1)
    fig.update_layout(showlegend=False, height=620 if ctx.kiosk else 480)
    # the whole window on the x axis (from its first bucket, which truncation may start earlier), so
    # a few points sit where they happened instead of plotly zooming in to milliseconds
    fig.update_xaxes(range=[min(f.start, trend["bucket_start"].min().to_pydatetime()), min(f.end, ctx.now)])
    charts.apply(fig, ctx)
    fig.update_annotations(font_size=22 if ctx.kiosk else 14)  # subplot titles follow the theme's size
    charts.show(fig, ctx)

# ── breakdown by one dimension ──────────────────────────────────────────────────────────────────
st.subheader(ctx.t("customers.breakdown"))
dimension = st.radio(ctx.t("customers.by"), DIMENSIONS, horizontal=True, key="customers_dimension",
                     format_func=lambda d: ctx.t(f"customers.dim_{d}"))
parts = {
    "on_time": ctx.query("kpi/by/on_time_rate_by_dimension", dimension=dimension),
    "speed": ctx.query("kpi/by/delivery_speed_by_dimension", dimension=dimension),
    "nps": ctx.query("kpi/by/nps_by_dimension", dimension=dimension),
    "returns": ctx.query("kpi/by/return_rate_by_dimension", dimension=dimension),
}
columns = {"on_time": {"value": "on_time_rate", "n": "delivered_n"},
           "speed": {"p50_hours": "p50_hours", "p90_hours": "p90_hours"},
           "nps": {"value": "nps", "n": "nps_n"},
           "returns": {"value": "return_rate"}}
table = None
for key, df in parts.items():
    if df.empty:
        continue
    df = df[["dimension_value", *columns[key]]].rename(columns=columns[key])
    table = df if table is None else table.merge(df, on="dimension_value", how="outer")
if table is None:
    st.info(ctx.t("customers.no_breakdown"))
else:
    for col in ("on_time_rate", "delivered_n", "p50_hours", "p90_hours", "nps", "nps_n", "return_rate"):
        if col not in table:
            table[col] = None
    table = table.sort_values("delivered_n", ascending=False, na_position="last")
    if table["on_time_rate"].notna().any():
        shown = table.dropna(subset=["on_time_rate"])
        fig = px.bar(shown, x="dimension_value", y="on_time_rate", text_auto=".1f",
                     labels={"dimension_value": ctx.t(f"customers.dim_{dimension}"),
                             "on_time_rate": ctx.t("customers.on_time") + " (%)"})
        fig.update_traces(marker_color=charts.ACTUAL)
        fig.update_layout(height=340 if ctx.kiosk else 280, yaxis={"range": [0, 105]})
        charts.show(fig, ctx)
    num = st.column_config.NumberColumn
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_order=["dimension_value", "on_time_rate", "delivered_n", "p50_hours", "p90_hours", "nps", "nps_n",
                      "return_rate"],
        column_config={
            "dimension_value": ctx.t(f"customers.dim_{dimension}"),
            "on_time_rate": num(ctx.t("customers.on_time"), format="%.1f%%"),
            "delivered_n": num(ctx.t("customers.col_delivered"), format="%d"),
            "p50_hours": num(ctx.t("customers.speed_p50"), format="%.1f"),
            "p90_hours": num(ctx.t("customers.speed_p90"), format="%.1f"),
            "nps": num(ctx.t("customers.nps"), format="%+.0f"),
            "nps_n": num(ctx.t("customers.col_responses"), format="%d"),
            "return_rate": num(ctx.t("customers.return_rate"), format="%.1f%%"),
        },
    )

# ── returns by reason ───────────────────────────────────────────────────────────────────────────
st.subheader(ctx.t("customers.returns_by_reason"))
reasons = ctx.query("kpi/return_rate_by_reason")
if reasons.empty:
    st.info(ctx.t("customers.no_returns"))
else:
    reasons = reasons.assign(label=reasons["reason"].map(
        lambda r: ctx.t(f"customers.reason_{r}") if ctx.t(f"customers.reason_{r}") != f"customers.reason_{r}"
        else r))
    fig = px.bar(reasons, x="rate_pct", y="label", orientation="h", text_auto=".2f",
                 labels={"rate_pct": ctx.t("customers.col_reason_rate"), "label": ctx.t("customers.col_reason")})
    fig.update_traces(marker_color=charts.RAG["yellow"])
    fig.update_layout(height=max(220, 46 * len(reasons)), yaxis={"autorange": "reversed"})
    charts.show(fig, ctx)
    st.caption(ctx.t("customers.reason_note", n=n(reasons["delivered_orders"].iloc[0])))
