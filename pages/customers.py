"""Customers: on-time delivery, delivery speed, NPS, returns and order accuracy — the headline for the
window, how each moved over time, and which carrier / market / merchant / channel drives them."""
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from tower import kpis
from tower.ui import charts, choices, fmt, frame, tiles
from tower.ui.frame import context

DIMENSIONS = ("carrier", "market", "merchant", "channel")
HOURLY_UP_TO_H = 72  # windows up to 3 days trend by hour, longer ones by day
UNITS = {"pct": "%", "hours": "h"}
# the breakdown table: one column per KPI, all from the semantic layer
BREAKDOWN = ("on_time_rate", "otif", "delivery_speed_p50_hours", "delivery_speed_p90_hours", "nps", "csat",
             "return_rate")

ctx = context()
st.title(ctx.t("customers.title"))


shown = frame.kpi_tiles(ctx, kpis.CUSTOMERS)
if not any(t.n for t in shown):
    st.info(ctx.t("customers.empty"))
    st.stop()
tiles.draw_grid([lambda t=t: tiles.draw_tile(t, ctx) for t in shown], per_row=4)

# ── trends: each KPI of the layer per hour or day (quiet buckets are gaps, the future is absent) ──
f = ctx.filters
window_h = (min(f.end, ctx.now) - f.start).total_seconds() / 3600 if f.start and f.end else HOURLY_UP_TO_H + 1
bucket = "hour" if window_h <= HOURLY_UP_TO_H else "day"
st.subheader(ctx.t("customers.trends", bucket=ctx.t(f"customers.bucket_{bucket}")))
trends = {t.kpi: ctx.kpi(t.name, bucket=bucket) for t in shown if t.kpi.buckets}
if not any(len(df) and df["n"].sum() for df in trends.values()):
    st.info(ctx.t("customers.no_trend"))
else:
    fig = make_subplots(rows=2, cols=4, subplot_titles=[k.title(ctx.lang) for k in trends],
                        vertical_spacing=0.18, horizontal_spacing=0.05)
    for i, (kpi, df) in enumerate(trends.items()):
        if df.empty:
            continue
        fig.add_trace(go.Scatter(x=df["bucket_start"], y=df["value"], mode="lines+markers", name=kpi.title(ctx.lang),
                                 line={"color": charts.PALETTE[i % len(charts.PALETTE)]}, connectgaps=False,
                                 customdata=df["n"],
                                 hovertemplate=f"%{{x}}<br>%{{y:.1f}} {UNITS.get(kpi.unit, '')} · n=%{{customdata}}"
                                               "<extra></extra>"),
                      row=i // 4 + 1, col=i % 4 + 1)
    fig.update_layout(showlegend=False, height=620 if ctx.kiosk else 480)
    # the whole window on the x axis, so a few points sit where they happened
    fig.update_xaxes(range=[f.start, min(f.end, ctx.now)])
    charts.apply(fig, ctx)
    fig.update_annotations(font_size=22 if ctx.kiosk else 14)  # subplot titles follow the theme's size
    charts.show(fig, ctx)

# ── breakdown by one dimension ──────────────────────────────────────────────────────────────────
st.subheader(ctx.t("customers.breakdown"))
dimension = st.radio(ctx.t("customers.by"), DIMENSIONS, horizontal=True, key="customers_dimension",
                     format_func=choices.labels(DIMENSIONS, lambda d: ctx.t(f"customers.dim_{d}")))
parts = {name: ctx.kpi(name, dimension=dimension) for name in BREAKDOWN}
table = None
for name, df in parts.items():
    if df.empty:
        continue
    df = df[["dimension_value", "value", "n"]].rename(columns={"value": name, "n": f"{name}_n"})
    table = df if table is None else table.merge(df, on="dimension_value", how="outer")
if table is None:
    st.info(ctx.t("customers.no_breakdown"))
else:
    # a KPI with no rows in this window (no parcel delivered yet, say) still gets its empty columns
    table = table.reindex(columns=["dimension_value", *(c for name in BREAKDOWN for c in (name, f"{name}_n"))])
    table = table.sort_values("on_time_rate_n", ascending=False, na_position="last")
    if table["on_time_rate"].notna().any():
        shown_rates = table.dropna(subset=["on_time_rate"])
        fig = px.bar(shown_rates, x="dimension_value", y="on_time_rate", text_auto=".1f",
                     labels={"dimension_value": ctx.t(f"customers.dim_{dimension}"),
                             "on_time_rate": kpis.get("on_time_rate").title(ctx.lang) + " (%)"})
        fig.update_traces(marker_color=charts.ACTUAL)
        fig.update_layout(height=340 if ctx.kiosk else 280, yaxis={"range": [0, 105]})
        charts.show(fig, ctx)
    num = st.column_config.NumberColumn
    formats = {"pct": "%.1f%%", "hours": "%.1f h", "score": "%+.0f"}
    config = {"dimension_value": ctx.t(f"customers.dim_{dimension}")}
    for name in BREAKDOWN:
        kpi = kpis.get(name)
        config[name] = num(kpi.title(ctx.lang), format=formats.get(kpi.unit, "%.1f"), help=kpi.meaning(ctx.lang))
    config["on_time_rate_n"] = num(ctx.t("customers.col_delivered"), format="%d")
    config["nps_n"] = num(ctx.t("customers.col_responses"), format="%d")
    config["csat_n"] = num(ctx.t("customers.col_csat_responses"), format="%d")
    st.dataframe(table, hide_index=True, width="stretch", column_order=list(config), column_config=config)

# ── returns by reason ───────────────────────────────────────────────────────────────────────────
st.subheader(ctx.t("customers.returns_by_reason"))
reasons = ctx.query("pages/customers_returns_by_reason")
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
    st.caption(ctx.t("customers.reason_note", n=fmt.number(reasons["delivered_orders"].iloc[0], ctx.lang)))
