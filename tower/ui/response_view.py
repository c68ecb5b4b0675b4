"""The retro's response section (issue 13): per alert, alert → first action sent against the seeds'
1-hour target (green / red) and the lost sales the actions avoided. The figures come from
tower.retro.action_response (queries/retro/action_response.sql); this only lays them out, and
returns the table so the HTML report carries the same one."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tower import retro
from tower.ui import fmt
from tower.ui import retro_tables as tables
from tower.ui.retro_tables import Column

COLUMNS = [
    Column("alert_id", "actions.retro_col.alert_id"),
    Column("title", "actions.retro_col.title"),
    Column("opened_at", "actions.retro_col.opened_at", "ts"),
    Column("first_action_at", "actions.retro_col.first_action_at", "ts"),
    Column("minutes_to_first_action", "actions.retro_col.minutes", "num1"),
    Column("on_target_text", "actions.retro_col.on_target"),
    Column("expected_lost_units", "actions.retro_col.expected", "num1", "actions.retro_avoided_help"),
    Column("observed_lost_units", "actions.retro_col.observed", "num1"),
    Column("avoided_units", "actions.retro_col.avoided_units", "num1", "actions.retro_avoided_help"),
    Column("avoided_sales", "actions.retro_col.avoided_sales", "money", "actions.retro_avoided_help"),
]


def on_target_text(t, value) -> str:
    if value is None or pd.isna(value):
        return fmt.MISSING
    return t("actions.retro_yes") if bool(value) else t("actions.retro_no")


def draw(ctx, window, episodes: pd.DataFrame | None, titles=lambda rule, title: title) -> pd.DataFrame | None:
    """The section; returns the shown table (None when there is nothing to show)."""
    t, lang = ctx.t, ctx.lang
    target = retro.FIRST_ACTION_TARGET_MINUTES
    st.subheader(t("actions.retro_title"))
    st.caption(t("actions.retro_caption", target=fmt.duration(target * 60, lang)))
    rows = retro.action_response(ctx.db, window, ctx.now, target, episodes=episodes)
    if rows is None:
        st.info(t("actions.retro_unavailable"))
        return None
    if rows.empty:
        st.info(t("actions.retro_none"))
        return None
    totals = retro.response_totals(rows)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("actions.retro_acted"), f"{fmt.number(totals['acted'], lang)} / {fmt.number(totals['alerts'], lang)}")
    share = totals["on_target_share"]
    with c2.container(key=f"rag-{'grey' if share is None else 'green' if share >= 1 else 'red'}-retro-response"):
        st.metric(t("actions.retro_on_target"), fmt.pct(share, lang, 0) if share is not None else fmt.MISSING)
    c3.metric(t("actions.retro_median"), fmt.duration(totals["median_minutes"] * 60, lang)
              if totals["median_minutes"] is not None else fmt.MISSING)
    c4.metric(t("actions.retro_avoided"), fmt.money(totals["avoided_sales"], lang),
              help=t("actions.retro_avoided_help"))
    shown = rows.assign(title=[titles(r, x) for r, x in zip(rows["rule"], rows["title"])],
                        on_target_text=[on_target_text(t, v) for v in rows["on_target"]])
    return tables.show(shown, COLUMNS, t, lang, ctx.tz, key="retro_response_table")
