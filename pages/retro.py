"""Retro: an event against its baseline — every KPI side by side, an event-relative hourly overlay,
the timeline of alerts / annotations / disruptions, replay of the war room at any minute, per-link
scorecards, lost sales from stockouts with the resilience ROI, and exports (HTML report, data pack).
All numbers come from tower.retro; this file only lays them out. New events and notes need the
"operate" permission and downloads "analyse": the page hides what its user may not do, and
tower.retro / tower.auth.exports refuse it anyway (checked on the server, and audited)."""
from datetime import UTC, datetime, time, timedelta

import duckdb
import pandas as pd
import streamlit as st

from tower import retro
from tower.alerts import settings as alert_settings
from tower.auth import policy
from tower.ui import access, alert_text, charts, choices, downloads, fmt, response_view, session
from tower.ui import retro_tables as tables
from tower.ui.frame import context

ctx = context()
lang = ctx.lang
who = session.identity()
st.title(ctx.t("retro.title"))
params = ctx.params()  # merchant / channel / market from the sidebar; windows come from the event
raw_config = getattr(getattr(ctx.runtime, "config", None), "raw", {}) or {}


def ts(value) -> str:
    return fmt.ts(value, lang, ctx.tz) if value is not None and pd.notna(value) else fmt.MISSING


def show(df: pd.DataFrame, columns: list, key: str) -> pd.DataFrame:
    """A labelled, formatted table (tower.ui.retro_tables); the same frame goes into the report."""
    return tables.show(df, columns, ctx.t, lang, ctx.tz, key=key)


def labelled(df: pd.DataFrame, columns: list) -> pd.DataFrame:
    return tables.table(df, columns, ctx.t, lang, ctx.tz)[0]


def totals_view(totals: pd.DataFrame) -> pd.DataFrame:
    """Demand totals with each value formatted in its own unit (money for revenue)."""
    money = totals["measure"] == "revenue"

    def as_text(col: str, signed: bool = False) -> list[str]:
        return [fmt.money(v, lang) if m else fmt.number(v, lang, signed=signed) for v, m in zip(totals[col], money)]

    return totals.assign(measure_label=[ctx.t(f"retro.m_{m}") for m in totals["measure"]],
                         event_text=as_text("event"), baseline_text=as_text("baseline"),
                         delta_text=as_text("delta", signed=True))


DELTA_UNITS = ("pct", "points", "hours", "days", "score", "money", "count", "ratio")


def failed(what: str, error: Exception) -> None:
    st.warning(ctx.t("retro.failed", what=what, error=str(error).splitlines()[0][:200]))


# ── which event, against what ──────────────────────────────────────────────────────────────────
try:
    events = retro.list_events(ctx.db, raw_config)
except duckdb.Error as e:
    failed(ctx.t("retro.events"), e)
    events = pd.DataFrame(columns=retro.EVENT_COLUMNS)
promos = events[events["kind"] == "promotion"].reset_index(drop=True)

if who.can("operate"):  # new event windows; tower.retro.create_event checks again
    with (st.expander(ctx.t("retro.create_event"), expanded=False),
          st.form("retro_new_event", clear_on_submit=True)):
        name = st.text_input(ctx.t("retro.event_name"), key="retro_new_name")
        c1, c2, c3, c4 = st.columns(4)
        today = ctx.now.date()
        d0 = c1.date_input(ctx.t("retro.start_date"), value=today, key="retro_new_d0")
        t0 = c2.time_input(ctx.t("retro.start_time"), value=time(0, 0), key="retro_new_t0")
        d1 = c3.date_input(ctx.t("retro.end_date"), value=today, key="retro_new_d1")
        t1 = c4.time_input(ctx.t("retro.end_time"), value=time(23, 0), key="retro_new_t1")
        if st.form_submit_button(ctx.t("retro.create")):
            try:
                new_id = retro.create_event(ctx.db, who, name, datetime.combine(d0, t0, UTC),
                                            datetime.combine(d1, t1, UTC), ctx.now)
                st.session_state["retro_event"] = new_id
                st.success(ctx.t("retro.created", name=name))
                events = retro.list_events(ctx.db, raw_config)
                promos = events[events["kind"] == "promotion"].reset_index(drop=True)
            except policy.Refused:
                st.warning(access.refusal(ctx.t, who, "operate"))
            except ValueError as e:
                st.error(ctx.t("retro.bad_event", error=str(e)))
            except duckdb.Error as e:
                failed(ctx.t("retro.create_event"), e)

labels = {r.event_id: f"{fmt.event(r.name, ctx.lang)} · {ts(r.starts_at)}" for r in promos.itertuples(index=False)}
if promos.empty:
    st.info(ctx.t("retro.no_events"))
    event = retro.Window(ctx.filters.start, ctx.filters.end, ctx.t("retro.sidebar_window"))
else:
    started = promos[promos["starts_at"] <= pd.Timestamp(ctx.now)]
    default_id = (started if len(started) else promos)["event_id"].iloc[0]
    ids = promos["event_id"].tolist()
    if st.session_state.get("retro_event") not in ids:
        st.session_state["retro_event"] = default_id
    chosen = st.selectbox(ctx.t("retro.event"), ids, format_func=labels.get, key="retro_event")
    row = promos.set_index("event_id").loc[chosen]
    event = retro.Window(row["starts_at"], row["ends_at"] if pd.notna(row["ends_at"]) else ctx.now,
                         fmt.event(row["name"], ctx.lang), chosen)

kinds = list(retro.BASELINES)
bc1, bc2 = st.columns([2, 3])
kind = bc1.radio(ctx.t("retro.baseline"), kinds,
                 format_func=choices.labels(kinds, lambda k: ctx.t(f"retro.baseline_{k}")),
                 horizontal=True, key="retro_baseline")
others = promos[promos["event_id"] != event.event_id]
if kind == "event" and others.empty:
    bc2.info(ctx.t("retro.no_other_event"))
    kind = "previous"
if kind == "event":
    other_id = bc2.selectbox(ctx.t("retro.other_event"), others["event_id"].tolist(),
                             format_func=labels.get, key="retro_other")
    o = others.set_index("event_id").loc[other_id]
    other = retro.Window(o["starts_at"], o["ends_at"] if pd.notna(o["ends_at"]) else ctx.now,
                         str(o["name"]), other_id)
    base = retro.baseline(event, kind, other, now=ctx.now)
else:
    base = retro.baseline(event, kind, now=ctx.now)  # a running event: the same hours so far
base_label = base.label if kind == "event" else ctx.t(f"retro.baseline_{kind}")
st.caption(ctx.t("retro.windows", event=event.label, start=ts(event.start), end=ts(event.end),
                 baseline=base_label, bstart=ts(base.start), bend=ts(base.end)))

# shared by several tabs and the report
try:
    notes = retro.annotations(ctx.db, event, event.event_id)
    disr = retro.disruptions(ctx.db, event)
except duckdb.Error as e:
    failed(ctx.t("retro.timeline"), e)
    notes, disr = pd.DataFrame(columns=["happened_at", "author", "text"]), pd.DataFrame()
report: list[retro.Section] = []

tab_cmp, tab_time, tab_replay, tab_cards, tab_loss, tab_export = st.tabs([
    ctx.t("retro.tab_compare"), ctx.t("retro.tab_timeline"), ctx.t("retro.tab_replay"),
    ctx.t("retro.tab_scorecards"), ctx.t("retro.tab_lost"), ctx.t("retro.tab_export")])

# ── event vs baseline ──────────────────────────────────────────────────────────────────────────
with tab_cmp:
    try:
        totals = retro.compare_totals(ctx.db, event, base, params)
        table = retro.compare_kpis(ctx.db, event, base, params)
    except duckdb.Error as e:
        failed(ctx.t("retro.tab_compare"), e)
        totals, table = pd.DataFrame(), pd.DataFrame()
    if len(totals):
        cols = st.columns(3)
        for col, r in zip(cols, totals.itertuples(index=False)):
            value = fmt.money(r.event, lang) if r.measure == "revenue" else fmt.number(r.event, lang)
            delta = fmt.pct(r.change_pct / 100, lang, signed=True) if pd.notna(r.change_pct) else None
            col.metric(ctx.t(f"retro.m_{r.measure}"), value, delta,
                       help=ctx.t("retro.vs_baseline", value=fmt.number(r.baseline, lang)))
        report.append(retro.Section(ctx.t("retro.totals"), table=labelled(totals_view(totals), tables.TOTALS)))
    if table.empty or (table["event_n"].fillna(0).sum() == 0 and table["baseline_n"].fillna(0).sum() == 0):
        st.info(ctx.t("retro.no_kpi_data"))
    else:
        def cell(r, col):
            if pd.isna(r[col]):
                return fmt.MISSING
            return fmt.units(retro.kpis.get(r["kpi"]).format_value(r[col]), lang)

        def delta_text(r) -> str:
            """The difference in the KPI's own unit (percentage points for a rate)."""
            if pd.isna(r["delta"]):
                return fmt.MISSING
            unit = ctx.t(f"retro.unit_{r['unit']}") if r["unit"] in DELTA_UNITS else ""
            return f"{fmt.number(r['delta'], lang, 1, signed=True)}{unit}"

        shown = pd.DataFrame({
            ctx.t("retro.col_kpi"): [r["label_zh"] if lang == "zh" and r["label_zh"] else r["label"]
                                     for _, r in table.iterrows()],
            ctx.t("retro.col_event"): [cell(r, "event") for _, r in table.iterrows()],
            ctx.t("retro.col_baseline"): [cell(r, "baseline") for _, r in table.iterrows()],
            ctx.t("retro.col_delta"): [delta_text(r) for _, r in table.iterrows()],
            ctx.t("retro.col_verdict"): [ctx.t(f"retro.verdict_{v}") if isinstance(v, str) else fmt.MISSING
                                         for v in table["verdict"]],
            ctx.t("retro.col_n"): [f"{fmt.number(a, lang)} / {fmt.number(b, lang)}"
                                   for a, b in zip(table["event_n"].fillna(0), table["baseline_n"].fillna(0))],
        })
        st.dataframe(shown, hide_index=True, width="stretch", key="retro_kpi_table", column_config={
            ctx.t("retro.col_event"): st.column_config.TextColumn(help=ctx.t("retro.help_kpi_value")),
            ctx.t("retro.col_baseline"): st.column_config.TextColumn(help=ctx.t("retro.help_kpi_value")),
            ctx.t("retro.col_delta"): st.column_config.TextColumn(help=ctx.t("retro.help_delta")),
            ctx.t("retro.col_verdict"): st.column_config.TextColumn(help=ctx.t("retro.help_verdict")),
            ctx.t("retro.col_n"): st.column_config.TextColumn(help=ctx.t("retro.help_n"))})
        report.append(retro.Section(ctx.t("retro.tab_compare"), table=shown))
        errors = table[table["error"].notna()]
        for r in errors.itertuples(index=False):
            st.caption(ctx.t("retro.kpi_failed", kpi=r.kpi, error=r.error))

    st.subheader(ctx.t("retro.relative"))
    metrics = ["units", "orders", "on_time_rate"]
    metric = st.radio(ctx.t("retro.metric"), metrics, horizontal=True,
                      format_func=choices.labels(metrics, lambda m: ctx.t(f"retro.metric_{m}")),
                      key="retro_metric")
    try:
        ev_series = retro.relative_series(ctx.db, event, params)
        bl_series = retro.relative_series(ctx.db, base, params)
    except duckdb.Error as e:
        failed(ctx.t("retro.relative"), e)
        ev_series = bl_series = pd.DataFrame(columns=retro.SERIES_COLUMNS)
    if ev_series[["orders", "delivered"]].sum().sum() == 0 and bl_series[["orders", "delivered"]].sum().sum() == 0:
        st.info(ctx.t("retro.no_hourly"))
    else:
        rel_notes = [(retro.relative_hours(r.happened_at, event.start), f"{r.author}: {r.text}")
                     for r in notes.itertuples(index=False)]
        rel_spans = [(retro.relative_hours(r.starts_at, event.start),
                      retro.relative_hours(r.ends_at if pd.notna(r.ends_at) else event.end, event.start),
                      fmt.event(r.name, ctx.lang)) for r in disr.itertuples(index=False)]
        fig = retro.relative_figure(ev_series, bl_series, metric, event_label=event.label,
                                    base_label=base_label, y_title=ctx.t(f"retro.metric_{metric}"),
                                    x_title=ctx.t("retro.hours_from_start"), notes=rel_notes,
                                    spans=rel_spans, notes_label=ctx.t("retro.notes"))
        charts.show(fig, ctx, key="retro_relative_chart")
        report.append(retro.Section(ctx.t("retro.relative"), ctx.t(f"retro.metric_{metric}"), figure=fig))

# ── timeline ───────────────────────────────────────────────────────────────────────────────────
with tab_time:
    target = retro.DEFAULT_ACK_TARGET_MINUTES
    try:
        target = alert_settings.load(tower_config=getattr(ctx.runtime, "config", None)).ack_target_minutes
    except Exception as e:  # noqa: BLE001 - no or bad alerts config: the documented 1-hour target
        st.caption(ctx.t("retro.default_target", error=str(e).splitlines()[0][:160] if str(e) else type(e).__name__))
    try:
        alerts = retro.alert_timeline(ctx.db, event, ctx.now, target)
    except duckdb.Error as e:
        failed(ctx.t("retro.alerts"), e)
        alerts = None
    if alerts is not None and len(alerts):
        alerts = alerts.assign(title=[alert_text.title(r, x, lang) for r, x in zip(alerts["rule"], alerts["title"])])
    if len(disr) and "name" in disr:
        disr = disr.assign(name=[fmt.event(n, ctx.lang) for n in disr["name"]])
    fig = retro.timeline_figure(alerts, notes, disr, event, ctx.now, notes_label=ctx.t("retro.notes"),
                                severity_label=lambda s: ctx.t(f"alerts.sev_{s}"))
    if fig is None:
        st.info(ctx.t("retro.no_timeline"))
    else:
        charts.show(fig, ctx, key="retro_timeline_chart")
        report.append(retro.Section(ctx.t("retro.timeline"), figure=fig))

    st.subheader(ctx.t("retro.alerts"))
    if alerts is None:
        st.info(ctx.t("retro.no_alerts_table"))
    elif alerts.empty:
        st.info(ctx.t("retro.no_alerts"))
    else:
        acked = alerts["ack_on_time"].dropna()
        c1, c2, c3 = st.columns(3)
        c1.metric(ctx.t("retro.alerts_opened"), fmt.number(len(alerts), lang))
        c2.metric(ctx.t("retro.ack_in_target", target=fmt.number(target, lang)),
                  fmt.pct(acked.mean(), lang) if len(acked) else fmt.MISSING)
        c3.metric(ctx.t("retro.median_ack"), fmt.duration(alerts["minutes_to_ack"].median() * 60, lang)
                  if alerts["minutes_to_ack"].notna().any() else fmt.MISSING)
        titles = [alert_text.title(r, x, lang) for r, x in zip(alerts["rule"], alerts["title"])]
        shown = show(alerts.assign(title=titles), tables.ALERTS, "retro_alerts_table")
        report.append(retro.Section(ctx.t("retro.alerts"), table=shown))

    st.subheader(ctx.t("retro.disruptions"))
    if disr.empty:
        st.info(ctx.t("retro.no_disruptions"))
    else:
        shown = show(disr, tables.DISRUPTIONS, "retro_disruptions_table")
        report.append(retro.Section(ctx.t("retro.disruptions"), table=shown))

    st.subheader(ctx.t("retro.notes"))
    if notes.empty:
        st.info(ctx.t("retro.no_notes"))
    else:
        shown = show(notes, tables.NOTES, "retro_notes_table")
        report.append(retro.Section(ctx.t("retro.notes"), table=shown))
    if not who.can("operate"):  # tower.retro.add_annotation checks again
        st.caption(access.refusal(ctx.t, who, "operate"))
    else:
        with st.form("retro_note", clear_on_submit=True):
            text = st.text_area(ctx.t("retro.note_text"), key="retro_note_text", max_chars=2000)
            n2, n3 = st.columns(2)
            moment = min(ctx.now, event.end)
            nd = n2.date_input(ctx.t("retro.note_date"), value=moment.date(), key="retro_note_date")
            nt = n3.time_input(ctx.t("retro.note_time"), value=moment.time().replace(second=0, microsecond=0),
                               key="retro_note_time", step=60)
            st.caption(access.acting_as(ctx.t, who))
            if st.form_submit_button(ctx.t("retro.add_note")):
                try:
                    retro.add_annotation(ctx.db, who, text, datetime.combine(nd, nt, UTC),
                                         ctx.now, event.event_id)
                    st.success(ctx.t("retro.note_added"))
                    st.rerun()
                except policy.Refused:
                    st.warning(access.refusal(ctx.t, who, "operate"))
                except ValueError as e:
                    st.error(ctx.t("retro.bad_note", error=str(e)))
                except duckdb.Error as e:
                    failed(ctx.t("retro.notes"), e)

    st.subheader(ctx.t("audit.retro_title"))
    try:
        deeds = retro.audit_events(ctx.db, event)
    except duckdb.Error as e:
        failed(ctx.t("audit.retro_title"), e)
        deeds = pd.DataFrame()
    if deeds.empty:
        st.info(ctx.t("audit.retro_empty"))
    else:
        shown = pd.DataFrame({
            ctx.t("audit.col_at"): [ts(x) for x in deeds["happened_at"]],
            ctx.t("audit.col_who"): [access.person(ctx.t, n) for n in deeds["actor_name"]],
            ctx.t("audit.col_action"): [access.action_text(ctx.t, a) for a in deeds["action"]],
            ctx.t("audit.col_target"): [access.target_text(ctx.t, x) for x in deeds["target"]],
        })
        st.dataframe(shown, hide_index=True, width="stretch", key="retro_audit_table")
        report.append(retro.Section(ctx.t("audit.retro_title"), table=shown))

# ── replay ─────────────────────────────────────────────────────────────────────────────────────
with tab_replay:
    lo = (event.start - timedelta(hours=6)).replace(second=0, microsecond=0)
    hi = max(min(event.end, ctx.now).replace(second=0, microsecond=0), lo + timedelta(minutes=1))
    at = st.slider(ctx.t("retro.replay_at"), min_value=lo, max_value=hi, value=hi,
                   step=timedelta(minutes=1), format="YYYY-MM-DD HH:mm", key="retro_replay_at")
    st.caption(ctx.t("retro.replay_note", at=fmt.ts(at, lang, ctx.tz, seconds=False)))
    try:
        rp = retro.replay(ctx.db, at, params, window_start=event.start)
    except duckdb.Error as e:
        failed(ctx.t("retro.tab_replay"), e)
        rp = None
    if rp is not None:
        cols = st.columns(4)
        for i, tile in enumerate(rp.tiles):
            value = fmt.units(tile.kpi.format_value(tile.value), lang) if not tile.error else fmt.MISSING
            cols[i % 4].metric(tile.kpi.title(lang), value)
        s1, s2 = st.columns(2)
        with s1:
            st.markdown(f"**{ctx.t('retro.replay_stock', n=len(rp.stock))}**")
            if rp.stock.empty:
                st.info(ctx.t("retro.no_stock_then"))
            else:
                show(rp.stock, tables.REPLAY_STOCK, "retro_replay_stock")
        with s2:
            st.markdown(f"**{ctx.t('retro.replay_transit', n=len(rp.in_transit))}**")
            if rp.in_transit.empty:
                st.info(ctx.t("retro.no_transit_then"))
            else:
                show(rp.in_transit, tables.REPLAY_TRANSIT, "retro_replay_transit")

# ── scorecards ─────────────────────────────────────────────────────────────────────────────────
with tab_cards:
    try:
        episodes = retro.stockouts(ctx.db, event, params)
        cards = retro.scorecards(ctx.db, event, params, episodes)
    except duckdb.Error as e:
        failed(ctx.t("retro.tab_scorecards"), e)
        episodes, cards = pd.DataFrame(), pd.DataFrame()
    if cards.empty:
        st.info(ctx.t("retro.no_scorecards"))
    else:
        for link_type in retro.LINK_TYPES:
            part = cards[cards["link_type"] == link_type]
            st.markdown(f"**{ctx.t(f'retro.link_{link_type}')}**")
            if part.empty:
                st.caption(ctx.t("retro.no_links"))
                continue
            shown = show(part, tables.SCORECARD, f"retro_cards_{link_type}")
            report.append(retro.Section(f"{ctx.t('retro.tab_scorecards')}: {ctx.t(f'retro.link_{link_type}')}",
                                        table=shown))
        access.download(ctx, who, ctx.t("retro.download_scorecard"), lambda: cards.to_csv(index=False).encode(),
                        file_name=downloads.file_name("retro", "scorecard", at=ctx.now, ext="csv"),
                        mime="text/csv", key="retro_dl_scorecard", detail={"event": event.event_id})

# ── lost sales and ROI ─────────────────────────────────────────────────────────────────────────
with tab_loss:
    lookback = st.number_input(ctx.t("retro.lookback"), min_value=1.0, max_value=72.0,
                               value=retro.DEFAULT_LOOKBACK_HOURS, step=1.0, key="retro_lookback")
    try:
        episodes = retro.stockouts(ctx.db, event, params, lookback)
    except duckdb.Error as e:
        failed(ctx.t("retro.tab_lost"), e)
        episodes = pd.DataFrame()
    lost = retro.lost_sales_total(episodes)
    c1, c2, c3 = st.columns(3)
    c1.metric(ctx.t("retro.stockout_hours"), fmt.number(lost["stockout_hours"], lang, 1))
    c2.metric(ctx.t("retro.lost_units"), fmt.number(lost["lost_units"], lang))
    c3.metric(ctx.t("retro.lost_sales"), fmt.money(lost["lost_sales"], lang))
    if episodes.empty:
        st.info(ctx.t("retro.no_stockouts"))
        report.append(retro.Section(ctx.t("retro.tab_lost"), ctx.t("retro.lost_definition")))
    else:
        shown = show(episodes, tables.STOCKOUTS, "retro_stockouts")
        report.append(retro.Section(ctx.t("retro.tab_lost"), ctx.t("retro.lost_definition"), table=shown))

    try:  # alert → first action and the lost sales the actions avoided (issue 13)
        shown = response_view.draw(ctx, event, episodes if "lost_units" in episodes and not params.get("market") else None,
                                   lambda r, x: alert_text.title(r, x, lang))
        if shown is not None:
            report.append(retro.Section(ctx.t("actions.retro_title"), ctx.t("actions.glossary_avoided"), table=shown))
    except duckdb.Error as e:
        failed(ctx.t("actions.retro_title"), e)

    st.subheader(ctx.t("retro.roi"))
    st.caption(ctx.t("retro.roi_definition"))
    try:
        roi_config = retro.load_config()
        baseline_units = float(totals.set_index("measure").loc["units", "baseline"]) if len(totals) else 0.0
        result = retro.roi(retro.roi_inputs(ctx.db, event.elapsed(ctx.now), params, roi_config, baseline_units),
                           roi_config)
    except retro.RoiConfigError as e:
        st.error(ctx.t("retro.roi_bad_config", error=str(e)))
        result = None
    except duckdb.Error as e:
        failed(ctx.t("retro.roi"), e)
        result = None
    if result is not None:
        why = ctx.t(f"retro.roi_why_{result.reason}") if result.reason else ctx.t("retro.roi_net",
                                                                                  net=fmt.money(result.net, lang))
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(ctx.t("retro.roi_avoided"), fmt.money(result.avoided_loss, lang))
        m2.metric(ctx.t("retro.roi_gains"), fmt.money(result.gains, lang))
        m3.metric(ctx.t("retro.roi_investment"), fmt.money(result.investment, lang))
        m4.metric(ctx.t("retro.roi_value"), fmt.pct(result.roi, lang, 0) if result.roi is not None else fmt.MISSING,
                  help=why)
        if result.reason:
            st.caption(why)
        st.caption(ctx.t("retro.roi_to_date"))
        lines = pd.DataFrame([
            (ctx.t("retro.roi_lost_sales_avoided"), result.lost_sales_avoided,
             ctx.t("retro.roi_how_lost_sales", units=fmt.number(result.avoided_units, lang, 1))),
            (ctx.t("retro.roi_churn_avoided"), result.churn_avoided, ctx.t("retro.roi_how_churn")),
            (ctx.t("retro.roi_avoided"), result.avoided_loss, ctx.t("retro.roi_how_avoided")),
            (ctx.t("retro.roi_gains"), result.gains, ctx.t("retro.roi_how_gains")),
            (ctx.t("retro.roi_premium"), result.backup_premium, ctx.t("retro.roi_how_premium")),
            (ctx.t("retro.roi_carrying"), result.carrying_cost, ctx.t("retro.roi_how_carrying")),
            (ctx.t("retro.roi_tools"), result.tools, ctx.t("retro.roi_how_config")),
            (ctx.t("retro.roi_training"), result.training, ctx.t("retro.roi_how_config")),
            (ctx.t("retro.roi_investment"), result.investment, ctx.t("retro.roi_how_investment")),
            (ctx.t("retro.roi_net_label"), result.net, ctx.t("retro.roi_how_net")),
        ], columns=["item", "amount", "how"])
        shown = show(lines, tables.ROI, "retro_roi_table")
        roi_text = fmt.pct(result.roi, lang, 0) if result.roi is not None else f"{fmt.MISSING} ({why})"
        report.append(retro.Section(ctx.t("retro.roi"), f"{ctx.t('retro.roi_value')}: {roi_text}. "
                                    + ctx.t("retro.roi_definition"), table=shown))

# ── export ─────────────────────────────────────────────────────────────────────────────────────
with tab_export:
    st.caption(ctx.t("retro.export_note"))
    title = ctx.t("retro.report_title", event=event.label)
    subtitle = ctx.t("retro.windows", event=event.label, start=ts(event.start), end=ts(event.end),
                     baseline=base_label, bstart=ts(base.start), bend=ts(base.end))
    what = event.event_id or event.label
    if not who.can("analyse"):  # tower.auth.exports.export checks again when the bytes are built
        st.info(access.refusal(ctx.t, who, "analyse"))
    detail = {"event": event.event_id, "window": [str(event.start), str(event.end)],
              "filters": {k: params.get(k) for k in ("merchant", "channel", "market")}}
    access.download(ctx, who, ctx.t("retro.download_report"), lambda: retro.report_html(title, subtitle, report, lang),
                    file_name=downloads.file_name("retro", "report", what, at=ctx.now, ext="html"),
                    mime="text/html", key="retro_dl_report", detail=detail)
    access.download(ctx, who, ctx.t("retro.download_pack"), lambda: retro.data_pack(ctx.db, event, params, ctx.now),
                    file_name=downloads.file_name("retro", "data", what, at=ctx.now, ext="zip"),
                    mime="application/zip", key="retro_dl_pack", detail=detail)
