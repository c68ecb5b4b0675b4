"""Data sources: per source the last successful sync, last status, rows, rejects, errors, duration
and data freshness (now − newest record); stale or failed sources in red; the recent runs."""
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from tower.ui import choices, fmt, frame, upload_panel

RECENT_RUNS = 200
HEALTH_ICON = {"failed": "🔴", "stale": "🔴", "never": "🟡", "partial": "🟡", "ok": "🟢", "manual": "✍️"}
RED_ROW = "background-color: #e03131; color: white; font-weight: 600"


def status_table(status: pd.DataFrame, ctx) -> pd.DataFrame:
    t = ctx.t
    return pd.DataFrame({
        t("sources.col_source"): status["source"],
        t("sources.col_health"): [f"{HEALTH_ICON.get(h, '⚪')} {t('sources.health_' + h)}" for h in status["health"]],
        t("sources.col_last_ok"): [
            f"{fmt.ts(at, ctx.lang, ctx.tz)} ({fmt.ago(s, ctx.lang)})" if pd.notna(at) else t("frame.never")
            for at, s in zip(status["last_ok_at"], status["since_ok_s"])],
        t("sources.col_last_status"): status["last_status"].fillna(fmt.MISSING),
        t("sources.col_fetched"): status["rows_fetched"].astype("Int64"),
        t("sources.col_written"): status["rows_written"].astype("Int64"),
        t("sources.col_rejected"): status["rows_rejected"].astype("Int64"),
        t("sources.col_duration"): [fmt.duration(d, ctx.lang) for d in status["duration_s"]],
        t("sources.col_freshness"): [fmt.duration(a, ctx.lang) for a in status["data_age_s"]],
        t("sources.col_error"): status["error"].fillna(""),
    })


def runs_table(runs: pd.DataFrame, ctx) -> pd.DataFrame:
    t = ctx.t
    return pd.DataFrame({
        t("sources.col_run"): runs["run_id"],
        t("sources.col_source"): runs["source"],
        t("sources.col_started"): [fmt.ts(s, ctx.lang, ctx.tz, seconds=True) for s in runs["started_at"]],
        t("sources.col_last_status"): runs["status"],
        t("sources.col_fetched"): runs["rows_fetched"].astype("Int64"),
        t("sources.col_written"): runs["rows_written"].astype("Int64"),
        t("sources.col_rejected"): runs["rows_rejected"].astype("Int64"),
        t("sources.col_duration"): [fmt.duration(d, ctx.lang) for d in runs["duration_s"]],
        t("sources.col_newest"): [fmt.ts(s, ctx.lang, ctx.tz, seconds=True) for s in runs["newest_record_at"]],
        t("sources.col_error"): runs["error"].fillna(""),
    })


def webhook_table(hooks: pd.DataFrame, ctx) -> pd.DataFrame:
    """Per source: seconds since the last verified webhook, events loaded last hour, refusals."""
    t = ctx.t
    return pd.DataFrame({
        t("webhooks.col_source"): hooks["source"],
        t("webhooks.col_last"): [fmt.ago(s, ctx.lang) if pd.notna(s) else t("frame.never")
                                 for s in hooks["received_ago_s"]],
        t("webhooks.col_loaded"): hooks["loaded_last_hour"].astype("Int64"),
        t("webhooks.col_rejected"): hooks["rejected_signatures"].astype("Int64"),
        t("webhooks.col_not_applied"): hooks["not_applied"].astype("Int64"),
        t("webhooks.col_last_rejected"): [fmt.ts(at, ctx.lang, ctx.tz, seconds=True) if pd.notna(at) else ""
                                          for at in hooks["last_rejected_at"]],
    })


def draw_webhooks(ctx, chosen) -> None:
    """Webhook-fed freshness, in real seconds (the receiver stamps wall-clock time)."""
    st.subheader(ctx.t("webhooks.title"))
    hooks_service = getattr(ctx.runtime, "webhooks", None)
    if hooks_service is not None:
        st.caption(ctx.t("webhooks.caption", url=hooks_service.url))
    else:
        st.caption(ctx.t("webhooks.caption_off"))
    hooks = ctx.query("ops/webhook_status", wall_now=datetime.now(timezone.utc))
    if chosen and not hooks.empty:
        hooks = hooks[hooks["source"] == chosen]
    if hooks.empty:
        st.info(ctx.t("webhooks.none"))
        return
    flags = hooks["rejected_signatures"].fillna(0).astype(int) > 0
    st.dataframe(webhook_table(hooks.reset_index(drop=True), ctx).style.apply(red_rows(flags), axis=1),
                 hide_index=True, width="stretch")


def red_rows(flags: pd.Series):
    flags = flags.reset_index(drop=True)
    return lambda row: [RED_ROW if flags.iloc[row.name] else ""] * len(row)


def draw(ctx) -> None:
    status = frame.source_status(ctx)
    if status.empty:
        st.info(ctx.t("sources.empty"))
        return
    names = status["source"].tolist()
    chosen = st.selectbox(ctx.t("sources.filter"), [None, *names], key="sources_filter",
                          format_func=choices.labels([None, *names], str, none=ctx.t("frame.all")))
    if chosen:
        status = status[status["source"] == chosen]
    status = status.reset_index(drop=True)

    bad = status[status["health"].isin(["failed", "stale"])]
    for r in bad.itertuples(index=False):
        key = "sources.banner_failed" if r.health == "failed" else "sources.banner_stale"
        since = fmt.ago(r.since_ok_s, ctx.lang) if pd.notna(r.since_ok_s) else ctx.t("frame.never")
        error = r.error if isinstance(r.error, str) and r.error else ctx.t("sources.no_error")
        st.error(ctx.t(key, source=r.source, since=since, error=error), icon="🚨")

    c1, c2, c3 = st.columns(3)
    c1.metric(ctx.t("sources.metric_sources"), fmt.number(len(status), ctx.lang))
    c2.metric(ctx.t("sources.metric_failing"), fmt.number(len(bad), ctx.lang))
    c3.metric(ctx.t("sources.metric_runs"), fmt.number(int(status["runs"].sum()), ctx.lang))

    st.subheader(ctx.t("sources.status_title"))
    flags = status["health"].isin(["failed", "stale"])
    st.dataframe(status_table(status, ctx).style.apply(red_rows(flags), axis=1),
                 hide_index=True, width="stretch")

    st.subheader(ctx.t("sources.runs_title"))
    runs = ctx.query("ops/recent_runs", source=chosen, limit=RECENT_RUNS)
    if runs.empty:
        st.info(ctx.t("sources.no_runs"))
    else:
        st.dataframe(runs_table(runs, ctx).style.apply(red_rows(runs["status"] == "failed"), axis=1),
                     hide_index=True, width="stretch")
    draw_webhooks(ctx, chosen)


ctx = frame.context()
st.title(ctx.t("sources.title"))
st.caption(ctx.t("sources.caption", factor=frame.STALE_FACTOR))
frame.live(draw, key="sources")
if not ctx.kiosk:  # a wall screen only shows; uploading is for a desk
    upload_panel.draw(ctx)  # manual sheets for when an API is down (issue 11)
