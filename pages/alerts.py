"""Alerts: the live list (filter by severity, state, owner), and for the selected alert its
playbook, live diagnosis numbers, history and the actions someone must take: acknowledge with a
comment, assign an owner, snooze, resolve with a note. Writes go through tower.alerts.lifecycle, which
checks the signed-in user's "operate" permission itself and signs the change with their name; a user
without it sees no action widgets."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

import queries
from tower.alerts import diagnosis, lifecycle, playbooks
from tower.alerts.rules import bound
from tower.alerts.ui import open_alert_counts
from tower.auth import policy
from tower.ui import access, action_panel, alert_text, choices, fmt, session
from tower.ui.frame import context

ctx = context()
t = ctx.t
who = session.identity()
SNOOZE_MINUTES = (30, 60, 120, 240, 480)
RAG_ICON = {"red": "🔴", "yellow": "🟡"}

st.title(t("alerts.title"))

if "_alerts_flash" in st.session_state:
    st.success(st.session_state.pop("_alerts_flash"))


def read(name: str, **params) -> pd.DataFrame:
    """Alert tables are small and must be live after every click: no cache here."""
    sql = queries.load(name)
    full = {"now": ctx.now, "start": ctx.filters.start, "end": ctx.filters.end, **params}
    return ctx.db.df(sql, bound(sql, full))


try:
    counts = open_alert_counts(ctx.db, ctx.now)
    owners = list(read("alerts/views/owners").owner)
except Exception as e:  # noqa: BLE001 - e.g. a database file from before the alerts migration
    st.info(t("alerts.unavailable", error=str(e)[:200]))
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric(t("alerts.open_red"), fmt.number(counts.get("red", 0), ctx.lang))
c2.metric(t("alerts.open_yellow"), fmt.number(counts.get("yellow", 0), ctx.lang))

# ── filters ─────────────────────────────────────────────────────────────────────────────────────
f1, f2, f3 = st.columns(3)
SEVERITIES, STATES = [None, "red", "yellow"], ["active", "open", "acknowledged", "snoozed", "resolved", None]
severity = f1.selectbox(t("alerts.f_severity"), SEVERITIES, key="alerts_f_severity", format_func=choices.labels(
    SEVERITIES, lambda v: t(f"alerts.sev_{v}"), none=t("alerts.all")))
state = f2.selectbox(t("alerts.f_state"), STATES, key="alerts_f_state", format_func=choices.labels(
    STATES, lambda v: t(f"alerts.state_{v}"), none=t("alerts.all")))
owner = f3.selectbox(t("alerts.f_owner"), [None, *owners], key="alerts_f_owner",
                     format_func=choices.labels([None, *owners], str, none=t("alerts.all")))

alerts = read("alerts/views/alert_list", severity=severity, state=state, owner=owner)
acked = alerts.ack_minutes.dropna() if len(alerts) else pd.Series(dtype=float)
c3.metric(t("alerts.median_ack"), fmt.duration(acked.median() * 60, ctx.lang) if len(acked) else "—",
          help=t("alerts.median_ack_help"))

if alerts.empty:
    st.info(t("alerts.empty"))
    st.stop()


def known(key: str, default: str) -> str:
    """The catalogue's text for `key`, or `default` when the catalogue has none."""
    text = t(key)
    return default if text == key else text


def column_label(name: str) -> str:
    """Diagnosis and log tables come straight from SQL: their columns get words from the catalogue."""
    return known(f"alerts.col.{name}", name)


CELL_CODES = {"tag": fmt.tag, "mode": fmt.mode, "direction": fmt.direction,
              "tier": lambda v, lang: known(f"alerts.word.{v}", v),
              "status": lambda v, lang: known(f"alerts.word.{v}", v)}


def in_words(df: pd.DataFrame) -> pd.DataFrame:
    """Code columns of a diagnosis table (carrier tags, modes, supplier tiers) in the viewer's words."""
    return df.assign(**{c: [f(v, ctx.lang) if isinstance(v, str) else v for v in df[c]]
                        for c, f in CELL_CODES.items() if c in df.columns})


def log_value(v: str) -> str:
    """A value in the alert's log: a state, a severity or the title the engine wrote, in words."""
    return known(f"alerts.state_{v}", known(f"alerts.sev_{v}", alert_text.title(alert.rule, v, ctx.lang)))


def state_label(row) -> str:
    if row.snoozed:
        return t("alerts.state_snoozed")
    return t(f"alerts.state_{row.state}")


titles = [alert_text.title(r, x, ctx.lang) for r, x in zip(alerts.rule, alerts.title)]
table = pd.DataFrame({
    "#": alerts.alert_id,
    t("alerts.col_severity"): [f"{RAG_ICON.get(s, '')} {t('alerts.sev_' + s)}" for s in alerts.severity],
    t("alerts.col_state"): [state_label(r) for r in alerts.itertuples()],
    t("alerts.col_title"): titles,
    t("alerts.col_opened"): [fmt.ts(x, ctx.lang, ctx.tz) for x in alerts.opened_at],
    t("alerts.col_open_for"): [fmt.duration(m * 60, ctx.lang) for m in alerts.minutes_open],
    t("alerts.col_owner"): alerts.owner.fillna(""),
    t("alerts.col_ack"): [fmt.duration(m * 60, ctx.lang) if pd.notna(m) else "" for m in alerts.ack_minutes],
})
st.dataframe(table, hide_index=True, width="stretch")

# ── the selected alert ──────────────────────────────────────────────────────────────────────────
labels = {int(r.alert_id): f"#{r.alert_id} {RAG_ICON.get(r.severity, '')} {title}"
          for r, title in zip(alerts.itertuples(), titles)}
selected = st.selectbox(t("alerts.select"), list(labels), key="alerts_selected",
                        format_func=labels.__getitem__)
alert = alerts.set_index("alert_id").loc[selected]

st.subheader(labels[selected])
st.caption(" · ".join(filter(None, [
    t("alerts.rule_label", rule=t(f"alerts.rule_{alert.rule}")),
    state_label(alert),
    t("alerts.opened_label", at=fmt.ts(alert.opened_at, ctx.lang, ctx.tz)),
    t("alerts.owner_label", owner=alert.owner) if isinstance(alert.owner, str) else None,
    t("alerts.snoozed_label", at=fmt.ts(alert.snoozed_until, ctx.lang, ctx.tz)) if alert.snoozed else None,
])))
if isinstance(alert.detail, str):
    st.write(alert_text.detail(alert.rule, alert.detail, ctx.lang))
if alert.state == "acknowledged":
    st.caption(t("alerts.acked_by", by=alert.acknowledged_by, at=fmt.ts(alert.acknowledged_at, ctx.lang, ctx.tz),
                 comment=alert.ack_comment or ""))
if alert.state == "resolved":
    st.caption(t("alerts.resolved_by", by=alert.resolved_by, at=fmt.ts(alert.resolved_at, ctx.lang, ctx.tz),
                 note=alert.resolution_note or ""))


def act(fn, done_key: str, **kwargs) -> None:
    try:
        fn(ctx.db, int(selected), now=ctx.now, **kwargs)
    except policy.Refused:
        st.warning(access.refusal(t, who, "operate"))
        return
    except lifecycle.LifecycleError as e:
        st.warning(str(e))
        return
    except Exception as e:  # noqa: BLE001 - e.g. a write conflict with the engine: try again
        st.error(t("alerts.action_failed", error=str(e)[:200]))
        return
    st.session_state["_alerts_flash"] = t(done_key, id=int(selected))
    st.rerun()


if alert.state != "resolved" and not who.can("operate"):
    st.info(access.refusal(t, who, "operate"))
elif alert.state != "resolved":
    st.caption(access.acting_as(t, who))
    a1, a2 = st.columns(2)
    with a1:
        if alert.state == "open":
            comment = st.text_area(t("alerts.ack_comment"), key="alerts_ack_comment", height=80)
            if st.button(t("alerts.ack"), key="alerts_ack", type="primary"):
                act(lifecycle.acknowledge, "alerts.done_ack", who=who, comment=comment)
        new_owner = st.text_input(t("alerts.owner"), key="alerts_owner", value=alert.owner or "")
        if st.button(t("alerts.assign"), key="alerts_assign"):
            act(lifecycle.assign, "alerts.done_assign", owner=new_owner, who=who)
    with a2:
        minutes = st.selectbox(t("alerts.snooze_for"), SNOOZE_MINUTES, index=1, key="alerts_snooze_min",
                               format_func=choices.labels(SNOOZE_MINUTES,
                                                          lambda m: fmt.duration(m * 60, ctx.lang)))
        if st.button(t("alerts.snooze"), key="alerts_snooze"):
            act(lifecycle.snooze, "alerts.done_snooze", until=ctx.now + timedelta(minutes=minutes), who=who)
        note = st.text_area(t("alerts.resolve_note"), key="alerts_resolve_note", height=80)
        if st.button(t("alerts.resolve"), key="alerts_resolve"):
            act(lifecycle.resolve, "alerts.done_resolve", who=who, note=note)

# ── playbook and live diagnosis ─────────────────────────────────────────────────────────────────
book = playbooks.load(str(alert.playbook))
tab_plan, tab_diag, tab_book, tab_log = st.tabs([t("actions.title"), t("alerts.tab_diagnosis"), t("alerts.tab_playbook"),
                                                 t("alerts.tab_history")])
with tab_plan:  # the executable playbook: its plan, dry run and the buttons this role allows
    action_panel.show_flash()
    action_panel.plan_panel(ctx, who, {"alert_id": int(selected), **alert.to_dict()})
with tab_diag:
    diag = diagnosis.diagnose(ctx.db, str(alert.playbook), str(alert.entity_id), ctx.now)
    nums = {k: v for k, v in diag.numbers.items() if v is not None}
    if nums:
        cols = st.columns(min(len(nums), 4))
        for i, (key, value) in enumerate(nums.items()):
            if key == "hours_to_stockout" or key.endswith("_days"):
                shown = fmt.hours(value * (24 if key.endswith("_days") else 1), ctx.lang)
            elif key.endswith("_eta") or key.endswith("_promise"):
                shown = fmt.ts(value, ctx.lang, ctx.tz)
            elif isinstance(value, (int, float)):
                shown = fmt.number(value, ctx.lang, 1 if key == "units_per_hour" else 0)
            else:
                shown = str(value)
            cols[i % len(cols)].metric(t(f"alerts.num_{key}"), shown)
    for name, df in diag.sections.items():
        st.markdown(f"**{t('alerts.diag_' + name)}**")
        if df.empty:
            st.caption(t("alerts.diag_none"))
        else:
            st.dataframe(in_words(df).rename(columns=column_label), hide_index=True, width="stretch")
    for name, error in diag.errors.items():
        st.warning(t("alerts.diag_failed", name=name, error=error))
    if not diag.sections and not diag.errors:
        st.caption(t("alerts.diag_none"))
with tab_book:
    if book is None:
        st.info(t("alerts.no_playbook", name=alert.playbook))
    else:
        st.markdown(f"### {known('alerts.playbook.' + book.name, book.title)}")
        for heading in ("Trigger", "Diagnosis", "Actions"):
            if book.section(heading):
                st.markdown(f"**{t('alerts.pb_' + heading.lower())}**")
                st.markdown(book.section(heading))
        st.caption(f"playbooks/{book.name}.md")
with tab_log:
    history = read("alerts/views/alert_log", alert_id=int(selected))
    history["logged_at"] = [fmt.ts(x, ctx.lang, ctx.tz, seconds=True) for x in history.logged_at]
    history["action"] = [known(f"alerts.action.{a}", a) for a in history.action]
    history["actor"] = [known(f"alerts.actor.{a}", a) for a in history.actor]
    for col in ("old_value", "new_value", "note"):  # states, severities, the engine's title; notes stay
        history[col] = [log_value(v) if isinstance(v, str) else v for v in history[col]]
    st.dataframe(history.rename(columns=column_label), hide_index=True, width="stretch")
