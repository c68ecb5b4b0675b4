"""Audit: the append-only trail of every write, download and console query — who, when, from where
and what changed — newest first, filtered by who, action and date. Admins only: tower.auth.trail
refuses everyone else on the server; this page says so in words and shows no rows."""
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from tower.auth import policy, trail
from tower.ui import access, choices, fmt, session
from tower.ui.frame import context

DEFAULT_DAYS = 7

ctx = context()
who = session.identity()
st.title(ctx.t("audit.title"))
if not who.can("administer"):
    st.warning(access.refusal(ctx.t, who, "administer"))
    st.stop()
st.caption(ctx.t("audit.caption"))

try:
    options = trail.filters(ctx.db, who)
except policy.Refused:
    st.warning(access.refusal(ctx.t, who, "administer"))
    st.stop()
except Exception as e:  # noqa: BLE001 - e.g. a database from before the audit migration
    st.info(ctx.t("audit.unavailable", error=str(e).splitlines()[0][:200] if str(e) else type(e).__name__))
    st.stop()

names = options.drop_duplicates("actor").set_index("actor")["actor_name"].to_dict()
actions = sorted(set(options["action"]))
f1, f2, f3, f4 = st.columns(4)
actor = f1.selectbox(ctx.t("audit.f_actor"), [None, *names], key="audit_f_actor", format_func=choices.labels(
    [None, *names], lambda a: f"{access.person(ctx.t, names.get(a) or a)} ({a})", none=ctx.t("audit.all")))
action = f2.selectbox(ctx.t("audit.f_action"), [None, *actions], key="audit_f_action",
                      format_func=choices.labels([None, *actions], lambda a: access.action_text(ctx.t, a),
                                                 none=ctx.t("audit.all")))
today = ctx.now.date()
day0 = f3.date_input(ctx.t("audit.f_from"), value=today - timedelta(days=DEFAULT_DAYS), key="audit_f_from")
day1 = f4.date_input(ctx.t("audit.f_to"), value=today, key="audit_f_to")
if day1 < day0:
    st.error(ctx.t("audit.bad_range"))
    st.stop()

try:
    rows = trail.rows(ctx.db, who, actor=actor, action=action, start=datetime.combine(day0, time(0), UTC),
                      end=datetime.combine(day1 + timedelta(days=1), time(0), UTC))
except policy.Refused:
    st.warning(access.refusal(ctx.t, who, "administer"))
    st.stop()
except Exception as e:  # noqa: BLE001 - a broken read says so instead of a trace
    st.info(ctx.t("audit.unavailable", error=str(e).splitlines()[0][:200] if str(e) else type(e).__name__))
    st.stop()

if rows.empty:
    st.info(ctx.t("audit.empty"))
    st.stop()


def roles_text(roles) -> str:
    if not isinstance(roles, str) or not roles:
        return ""
    return ", ".join(access.role_text(ctx.t, r) for r in roles.split(","))


st.caption(ctx.t("audit.shown", rows=fmt.number(len(rows), ctx.lang), limit=fmt.number(trail.ROW_LIMIT, ctx.lang)))
st.dataframe(pd.DataFrame({
    "#": rows["audit_id"],
    ctx.t("audit.col_at"): [fmt.ts(x, ctx.lang, ctx.tz, seconds=True) for x in rows["happened_at"]],
    ctx.t("audit.col_who"): [access.person(ctx.t, n) for n in rows["actor_name"].fillna(rows["actor"])],
    ctx.t("audit.col_roles"): [roles_text(r) for r in rows["roles"]],
    ctx.t("audit.col_origin"): rows["origin"].fillna(""),
    ctx.t("audit.col_via"): [access.via_text(ctx.t, v) for v in rows["via"]],
    ctx.t("audit.col_action"): [access.action_text(ctx.t, a) for a in rows["action"]],
    ctx.t("audit.col_target"): [access.target_text(ctx.t, x) for x in rows["target"]],
    ctx.t("audit.col_detail"): rows["detail"].fillna(""),
}), hide_index=True, width="stretch", key="audit_table")
