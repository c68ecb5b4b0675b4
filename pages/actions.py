"""Actions: every action Tower's playbooks proposed, sent or are tracking, with its live status
(refreshing on its own), filters by status and playbook, the chosen action's transitions and the
buttons its status and the user's role allow (approve / reject, send, revert, confirm a manual
fallback and download its document), and the kill switch of each automatic playbook (admin).
Drawing lives in tower.ui.action_panel; tower.actions checks every permission itself."""
import pandas as pd
import streamlit as st

import queries
from tower.actions import log as action_log
from tower.actions import playbooks, runner
from tower.ui import access, action_panel, choices, frame, session
from tower.ui.frame import context

ctx = context()
t = ctx.t
who = session.identity()
cfg = getattr(ctx.runtime, "config", None)
STATUSES = list(action_panel.STATUS_RAG)

st.title(t("actions.title"))
st.caption(t("actions.intro"))
action_panel.show_flash()

f1, f2 = st.columns(2)
statuses = f1.multiselect(t("actions.f_status"), STATUSES, key="actions_f_status",
                          format_func=choices.labels(STATUSES, lambda s: action_panel.status_text(t, s)))
try:
    books = playbooks.load_all(cfg)
except Exception as e:  # noqa: BLE001 - a broken playbook file: the log still shows
    st.warning(t("actions.plan_failed", error=str(e)[:300]))
    books = []
book_ids = [str(b.id) for b in books]
playbook = f2.selectbox(t("actions.f_playbook"), [None, *book_ids], key="actions_f_playbook",
                        format_func=choices.labels([None, *book_ids], str, none=t("actions.all")))


def live_list(live_ctx) -> None:
    """The list and its counts, redrawn every refresh with fresh data."""
    try:
        rows = action_log.listing(live_ctx.db, statuses=statuses or None, playbook=playbook)
    except Exception as e:  # noqa: BLE001 - e.g. a database from before the actions migration
        st.info(live_ctx.t("actions.unavailable", error=str(e)[:200]))
        return
    c1, c2, c3 = st.columns(3)
    c1.metric(t("actions.in_flight"), sum(a.status in action_log.IN_FLIGHT for a in rows))
    c2.metric(t("actions.need_approval"), sum(a.status == "proposed" for a in rows))
    c3.metric(t("actions.failed_count"), sum(a.status in ("failed", "manual") for a in rows))
    if not rows:
        st.info(t("actions.empty"))
        return
    action_panel.action_table(live_ctx, rows, key="actions_table")


frame.live(live_list, key="actions_list")

# ── the chosen action: what happened to it, and what this user may do next ─────────────────────
try:
    rows = action_log.listing(ctx.db, statuses=statuses or None, playbook=playbook)
except Exception:  # noqa: BLE001 - the live list above already said why
    rows = []
if rows:
    by_id = {int(a.action_id): a for a in rows}
    chosen = st.selectbox(t("actions.select"), list(by_id), key="actions_selected",
                          format_func=choices.labels(by_id, lambda i: (
                              f"#{i} {action_panel.kind_text(t, by_id[i].kind)} · "
                              f"{action_panel.status_text(t, by_id[i].status)}")))
    action = action_log.get(ctx.db, chosen) or by_id[chosen]
    st.markdown(action_panel.status_badge(t, action.status), unsafe_allow_html=True)
    st.markdown(f"**{t('actions.transitions')}**")
    steps = action_panel.transitions_frame(ctx, action_log.transitions(ctx.db, chosen))
    if steps.empty:
        st.caption(t("actions.no_transitions"))
    else:
        st.dataframe(steps, hide_index=True, width="stretch", key="actions_transitions")
    action_panel.action_controls(ctx, who, action, key="actions_page")

# ── kill switches (admin) ───────────────────────────────────────────────────────────────────────
automatic = [b for b in books if getattr(b, "mode", None) == "automatic"]
st.subheader(t("actions.kill_title"))
st.caption(t("actions.kill_intro"))
if not automatic:
    st.caption(t("actions.kill_none"))
try:  # uncached: a flipped switch must show at once
    controls = ctx.db.df(queries.load("pages/playbook_controls"))
except Exception:  # noqa: BLE001 - a database from before the actions migration
    controls = pd.DataFrame()
current = controls.set_index("playbook") if len(controls) else pd.DataFrame()
for book in automatic:
    pid = str(book.id)
    enabled = True if pid not in current.index else bool(current.loc[pid, "enabled"])
    if enabled:
        st.markdown(frame.badge(t("actions.kill_enabled", playbook=pid), "green"), unsafe_allow_html=True)
    else:
        row = current.loc[pid]
        st.markdown(frame.badge(t("actions.kill_disabled", playbook=pid, by=action_panel.person(t, action_panel.actor_names(ctx.db), row["changed_by"]),
                                  reason=row["reason"] or ""), "red"), unsafe_allow_html=True)
    if not who.can("administer"):
        continue
    reason = st.text_input(t("actions.kill_reason"), key=f"actions_kill_reason_{pid}")
    label = t("actions.kill_stop" if enabled else "actions.kill_start", playbook=pid)
    if st.button(label, key=f"actions_kill_{pid}", type="primary" if enabled else "secondary"):
        action_panel.act(ctx, who, "administer",
                         lambda pid=pid, enabled=enabled, reason=reason: runner.kill_switch(
                             ctx.db, who, pid, not enabled, now=ctx.now, reason=reason),
                         lambda _r, label=label: label)
if automatic and not who.can("administer"):
    st.caption(access.refusal(t, who, "administer"))
