"""Overview — the war room: KPI tiles with deltas and red/yellow/green, open alerts, sales vs
forecast by hour for the event (with the 150% surge line), SKUs closest to stockout, the in-transit
status mix and per-source freshness. Everything refreshes on its own (?refresh=)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tower.alerts.ui import counts_by_severity
from tower.ui import action_panel, charts, fmt, frame, kiosk, tiles
from tower.ui.context import cached_query

SURGE = 1.5  # the seeds' surge trigger: sales at 150% of forecast
AT_RISK_ROWS = 8


def draw_count(label: str, count: int | None, colour: str, key: str, ctx) -> None:
    with st.container(border=True, key=f"rag-{colour if count else 'green'}-{key}"):
        st.metric(label, fmt.number(count, ctx.lang))


def draw_tiles(ctx) -> None:
    """KPI tiles, then the open red / yellow counts, five to a row."""
    shown = frame.kpi_tiles(ctx)
    if not shown:
        st.info(ctx.t("overview.no_kpis"))
    red, yellow, what = alert_counts(ctx, shown)
    cells = [lambda t=t: tiles.draw_tile(t, ctx) for t in shown] + [
        lambda: draw_count(ctx.t(what + "_red"), red, "red", "alerts-red", ctx),
        lambda: draw_count(ctx.t(what + "_yellow"), yellow, "yellow", "alerts-yellow", ctx),
    ]
    tiles.draw_grid(cells)


def alert_counts(ctx, tiles) -> tuple[int | None, int | None, str]:
    """(red, yellow, what they count): open alerts when the alerts module is there, else KPIs."""
    try:
        # one query per data version and quantum for every screen, like the tiles (not per refresh)
        counts = counts_by_severity(cached_query(ctx.db, "alerts/views/open_counts", ctx.params()))
        return int(counts.get("red", 0) or 0), int(counts.get("yellow", 0) or 0), "overview.open_alerts"
    except Exception as e:  # noqa: BLE001 - the counts are a convenience, never a crash
        st.warning(ctx.t("frame.query_failed", name="alerts", error=str(e)[:200]))
    statuses = [t.status for t in tiles]
    return statuses.count("red"), statuses.count("yellow"), "overview.kpis_breaching"


def event_bounds(ctx) -> tuple[str | None, dict]:
    """(event name, window params) for the sales chart: a promotion running now is shown whole (its
    plan ahead included) whatever window the filters show; an ended one never holds the chart."""
    f = ctx.filters
    if f.window == "event" and f.event_name:
        return f.event_name, {}
    ev = ctx.query("ops/current_event")
    if len(ev):
        ends = ev["ends_at"].iloc[0]
        if pd.isna(ends) or ends > pd.Timestamp(ctx.now):
            return ev["name"].iloc[0], {"start": ev["starts_at"].iloc[0].to_pydatetime(),
                                        "end": None if pd.isna(ends) else ends.to_pydatetime()}
    return None, {}


def sales_figure(df: pd.DataFrame, look: charts.Look) -> go.Figure:
    hours = df["bucket_start"].dt.tz_convert(look.tz).dt.tz_localize(None)
    fig = go.Figure()
    fig.add_bar(x=hours, y=df["units_sold"], name=look.t("overview.actual"), marker_color=charts.ACTUAL)
    fig.add_scatter(x=hours, y=df["forecast_units"], name=look.t("overview.forecast"), mode="lines+markers",
                    line=dict(color=charts.FORECAST, width=3))
    fig.add_scatter(x=hours, y=df["forecast_units"] * SURGE, name=look.t("overview.surge"), mode="lines",
                    line=dict(color=charts.SURGE, width=2, dash="dash"))
    fig.update_layout(yaxis_title=look.t("overview.units"), xaxis_title=look.tz, bargap=0.15,
                      height=kiosk.chart_height(look, 0.3, 360),
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    fig.update_xaxes(tickformat="%H:%M", nticks=8, tickangle=0)  # hours read across a room
    return fig


def draw_sales(ctx) -> None:
    event, bounds = event_bounds(ctx)
    sold = ctx.kpi("sales_vs_forecast", bucket="hour", **bounds)
    plan = ctx.query("pages/overview_forecast_by_hour", **bounds)
    df = plan if sold.empty else plan.merge(
        sold[["bucket_start", "units_sold", "value"]], on="bucket_start", how="outer")
    if "units_sold" not in df:
        df = df.assign(units_sold=None, value=None)
    name = fmt.event(event, ctx.lang) if event else ctx.t("overview.this_window")
    st.subheader(ctx.t("overview.sales_title", event=name))
    if df.empty or (df["units_sold"].fillna(0).sum() == 0 and df["forecast_units"].fillna(0).sum() == 0):
        st.info(ctx.t("overview.no_sales"))
        return
    charts.draw(sales_figure, df[["bucket_start", "units_sold", "forecast_units"]], ctx, key="overview_sales")
    # the last complete hour: the running one is too young to judge
    complete = df["bucket_start"] + pd.Timedelta(hours=1) <= pd.Timestamp(ctx.now)
    done = df[complete & df["value"].notna()]
    if len(done):
        last = done.iloc[-1]
        surge = last.value >= SURGE * 100
        st.caption(ctx.t("overview.sales_now_surge" if surge else "overview.sales_now",
                         pct=fmt.pct(last.value / 100, ctx.lang, 0)))


def draw_at_risk(ctx) -> None:
    st.subheader(ctx.t("overview.at_risk_title"))
    df = ctx.query("pages/overview_skus_at_risk", limit=kiosk.rows(ctx, 5, AT_RISK_ROWS))
    if df.empty:
        st.info(ctx.t("overview.no_at_risk"))
        return
    view = pd.DataFrame({
        ctx.t("overview.col_sku"): df["sku"] + " · " + df["sku_name"].fillna(""),
        ctx.t("overview.col_warehouse"): df["warehouse_id"],
        ctx.t("overview.col_available"): df["available"],
        ctx.t("overview.col_per_hour"): [fmt.number(v, ctx.lang, 1) for v in df["units_per_hour"]],
        ctx.t("overview.col_hours_left"): [fmt.hours(h, ctx.lang) for h in df["hours_to_stockout"]],
        ctx.t("overview.col_inbound_eta"): [fmt.ts(t, ctx.lang, ctx.tz) for t in df["next_inbound_eta"]],
    })
    kiosk.table(view, ctx, red_rows=df["hours_to_stockout"].fillna(1e9) < 12, hide_index=True,
                width="stretch")


def transit_figure(df: pd.DataFrame, look: charts.Look) -> go.Figure:
    colours = {"Exception": charts.RAG["red"], "AttemptFail": charts.RAG["red"],
               "OutForDelivery": charts.RAG["green"], "AvailableForPickup": charts.RAG["green"]}
    df = df.sort_values("shipments")
    fig = go.Figure(go.Bar(
        x=df["shipments"], y=[fmt.tag(t, look.lang) for t in df["tag"]], orientation="h", text=df["shipments"],
        textposition="auto",
        marker_color=[colours.get(t, charts.ACTUAL) for t in df["tag"]],
    ))
    fig.update_layout(height=kiosk.chart_height(look, 0.18, 80 + 40 * len(df)),
                      xaxis_title=look.t("overview.shipments"), showlegend=False)
    return fig


def draw_transit(ctx) -> None:
    st.subheader(ctx.t("overview.transit_title"))
    df = ctx.query("pages/overview_intransit_mix")
    if df.empty:
        st.info(ctx.t("overview.no_transit"))
        return
    charts.draw(transit_figure, df[["tag", "shipments"]], ctx, key="overview_transit")


def draw_freshness(ctx) -> None:
    st.subheader(ctx.t("overview.freshness_title"))
    status = frame.source_status(ctx)
    if status.empty:
        st.info(ctx.t("frame.no_sources"))
        return
    pills = []
    for source, health, age_s in zip(status["source"], status["health"], status["data_age_s"]):
        age = fmt.duration(age_s, ctx.lang) if pd.notna(age_s) else fmt.MISSING
        pills.append(frame.badge(f"{source} · {ctx.t('sources.health_' + health)} · {age}",
                                 frame.HEALTH_RAG.get(health, "grey")))
    st.markdown("".join(pills), unsafe_allow_html=True)
    if not ctx.kiosk:
        try:
            st.page_link("pages/sources.py", label=ctx.t("overview.to_sources"), icon=":material/sync:")
        except st.errors.StreamlitAPIException:  # page run on its own, outside app.py's navigation
            pass


def war_room(ctx) -> None:
    # what the war room acts on first (KPIs, the surge, the stockouts) sits above the fold
    draw_tiles(ctx)
    action_panel.draw_strip(ctx)  # the response under way: actions in flight, status and age
    if ctx.kiosk:
        # a wall cannot scroll: one row under the tiles, and the status strip above already shows
        # every source's freshness
        for col, draw in zip(st.columns([5, 4, 3]), (draw_sales, draw_at_risk, draw_transit)):
            with col:
                draw(ctx)
        return
    left, right = st.columns([3, 2])
    with left:
        draw_sales(ctx)
    with right:
        draw_at_risk(ctx)
    left, right = st.columns([3, 2])
    with left:
        draw_transit(ctx)
    with right:
        draw_freshness(ctx)


ctx = frame.context()
frame.page_header(ctx, ctx.t("overview.title"))
frame.live(war_room, key="overview")
