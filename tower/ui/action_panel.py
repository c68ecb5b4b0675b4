"""Executable playbooks on the page (issue 13): an alert's proposed plan with the numbers behind it,
its dry run, and the buttons a role allows (operate → Run / Propose; approve → Approve / Reject
with a comment; operate → Revert / Confirm a manual fallback); the action list and its
transitions. Pages stay thin: pages/alerts.py and pages/actions.py call these.

Every button calls tower.actions (engine / runner), which checks the signed-in user's permission
itself and records who: hiding a button here is a courtesy, the engine's refusal is the check."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

import queries
from tower.actions import engine, planner, playbooks, runner
from tower.actions import log as action_log
from tower.auth import policy
from tower.ui import access, downloads, fmt
from tower.ui.context import QUERY_TTL_S, shared_result

FLASH_KEY = "_actions_flash"
STATUS_RAG = {"proposed": "yellow", "approved": "yellow", "sending": "yellow", "reverting": "yellow",
              "sent": "green", "acknowledged": "green", "done": "green",
              "failed": "red", "manual": "red",
              "rejected": "grey", "reverted": "grey", "cancelled": "grey"}
REVERTIBLE = ("proposed", "approved", "sent", "acknowledged", "done")   # before sending: withdrawn


def sendable(action) -> bool:
    """What engine.execute accepts: an approved action, or a proposed one that needs no approval."""
    return action.status == "approved" or (action.status == "proposed" and action.mode != "approval")


# ── words ───────────────────────────────────────────────────────────────────────────────────────
def known(t: Callable[..., str], key: str, default: str) -> str:
    text = t(key)
    return default if text == key else text


def status_text(t, status) -> str:
    return known(t, f"actions.status.{status}", str(status))


def kind_text(t, kind) -> str:
    return known(t, f"actions.kind.{kind}", str(kind))


def mode_text(t, mode) -> str:
    return known(t, f"actions.mode.{mode}", str(mode))


def status_badge(t, status: str) -> str:
    """An HTML pill of the status in its colour (tower.ui.frame's badge styles)."""
    colour = STATUS_RAG.get(status, "grey")
    return f'<span class="tower-badge {colour}">{status_text(t, status)}</span>'


def params_text(params) -> str:
    """Parameters as one line of code (`key=value, …`, in the plan's order): what the vendor gets,
    in no language."""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return params
    if not isinstance(params, dict):
        return "" if params is None else str(params)
    return "`" + ", ".join(f"{k}={v}" for k, v in params.items() if v is not None) + "`"


def _value(v):
    return None if v is None or (not isinstance(v, (str, dict, list)) and pd.isna(v)) else v


def age_seconds(now: datetime, since) -> float | None:
    since = _value(since)
    if since is None:
        return None
    return max((pd.Timestamp(now) - pd.Timestamp(since)).total_seconds(), 0.0)


# ── acting: one wrapper for every button ────────────────────────────────────────────────────────
def act(ctx, who, permission: str, call: Callable[[], object], done: Callable[[object], str]) -> None:
    """Run `call` (an engine or runner function); a refusal or invalid input becomes a message in
    words and nothing else happens; on success the page reruns with `done(result)` as a flash."""
    try:
        result = call()
    except policy.Refused:
        st.warning(access.refusal(ctx.t, who, permission))
        return
    except engine.ActionInvalid as e:     # a bad playbook file, a refused run, an impossible step
        st.warning(ctx.t("actions.invalid", error=str(e)[:300]))
        return
    except Exception as e:  # noqa: BLE001 - a vendor or database failure shows, the page stays up
        st.error(ctx.t("actions.failed", error=str(e)[:300]))
        return
    st.session_state[FLASH_KEY] = done(result)
    st.rerun()


def show_flash() -> None:
    if FLASH_KEY in st.session_state:
        st.success(st.session_state.pop(FLASH_KEY))


def count_of(result) -> int:
    """How many actions a playbook run recorded, whatever shape the runner returns them in."""
    found = getattr(result, "actions", result)
    try:
        return len(found or [])
    except TypeError:
        return 1 if found is not None else 0


def _status_of(result, fallback: str) -> str:
    return str(getattr(result, "status", None) or fallback)


def reason_text(t, reason) -> str:
    """A plan's reason in the reader's language (tower.actions.planner.Reason), else as it is."""
    key = getattr(reason, "key", None)
    return t(f"actions.reason.{key}", **reason.values) if key else str(reason)


# ── an alert's executable playbooks and their plan ──────────────────────────────────────────────
def trigger_rule(book) -> str | None:
    """The alert rule a playbook is triggered by (its trigger's `rule`)."""
    trigger = getattr(book, "trigger", None)
    if isinstance(trigger, dict):
        return trigger.get("rule")
    return getattr(trigger, "rule", None) or getattr(book, "rule", None)


def executable_for(cfg, rule: str) -> list:
    """The executable playbooks whose trigger is this alert rule."""
    return [b for b in playbooks.load_all(cfg) if trigger_rule(b) == rule]


def plan_frame(t, lang: str, plan) -> pd.DataFrame:
    """The plan as the small table a person reads: step, action, parameters, cost, why."""
    return pd.DataFrame({
        t("actions.col.step"): [a.step for a in plan.actions],
        t("actions.col.kind"): [kind_text(t, a.kind) for a in plan.actions],
        t("actions.col.params"): [params_text(a.params) for a in plan.actions],
        t("actions.col.estimated_cost"): [fmt.money(a.estimated_cost, lang) if _value(a.estimated_cost) is not None
                                          else fmt.MISSING for a in plan.actions],
        t("actions.col.why"): [reason_text(t, a.why) if a.why else "" for a in plan.actions],
    })


def numbers_frame(t, lang: str, tz: str, numbers: dict) -> pd.DataFrame:
    """The diagnosis numbers behind the plan, labelled with the alerts page's words."""
    def shown(v):
        if isinstance(v, (datetime, pd.Timestamp)):
            return fmt.ts(v, lang, tz)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return fmt.number(v, lang, 1)
        return "" if v is None else str(v)

    return pd.DataFrame({"": [known(t, f"alerts.num_{k}", k) for k in numbers],
                         " ": [shown(v) for v in numbers.values()]})


def plan_panel(ctx, who, alert: dict) -> None:
    """Every executable playbook of the alert's rule: its plan, dry run and the role's buttons."""
    cfg = getattr(ctx.runtime, "config", None)
    try:
        books = executable_for(cfg, str(alert.get("rule")))
    except Exception as e:  # noqa: BLE001 - a broken playbook file must not hide the alert
        st.warning(ctx.t("actions.plan_failed", error=str(e)[:300]))
        return
    if not books:
        st.caption(ctx.t("actions.no_executable"))
    for book in books:
        _one_plan(ctx, who, cfg, book, alert)
    try:
        existing = action_log.listing(ctx.db, alert_id=int(alert["alert_id"]))
    except Exception as e:  # noqa: BLE001 - e.g. a database file from before the action log
        st.info(ctx.t("actions.unavailable", error=str(e)[:200]))
        return
    if existing:
        st.markdown(f"**{ctx.t('actions.for_alert')}**")
        action_table(ctx, existing, key=f"alert_actions_{alert['alert_id']}")
        for a in existing:
            action_controls(ctx, who, a, key=f"alert_{alert['alert_id']}")


def _one_plan(ctx, who, cfg, book, alert: dict) -> None:
    t, book_id, mode = ctx.t, str(getattr(book, "id", book)), str(getattr(book, "mode", "manual"))
    st.markdown(f"#### {t('actions.plan_title', playbook=book_id, mode=mode_text(t, mode))}")
    try:
        plan = planner.plan_for(ctx.db, cfg, book, alert, ctx.now)
    except Exception as e:  # noqa: BLE001 - bad live data: say why, offer nothing to send
        st.warning(t("actions.plan_failed", error=str(e)[:300]))
        return
    if plan.numbers:
        with st.expander(t("actions.plan_numbers"), expanded=False):
            st.dataframe(numbers_frame(t, ctx.lang, ctx.tz, plan.numbers), hide_index=True, width="stretch")
    if plan.stale:
        st.warning(t("actions.plan_stale"))
    elif plan.triggered:
        st.caption(t("actions.plan_triggered"))
    else:
        st.info(t("actions.plan_not_triggered", reasons="; ".join(reason_text(t, r) for r in plan.reasons or [])))
    if not plan.actions:
        st.caption(t("actions.plan_empty"))
        return
    st.dataframe(plan_frame(t, ctx.lang, plan), hide_index=True, width="stretch",
                 key=f"plan_{book_id}_{alert['alert_id']}")
    total = sum(float(a.estimated_cost or 0) for a in plan.actions)
    st.caption(t("actions.plan_total", cost=fmt.money(total, ctx.lang)))
    with st.expander(t("actions.dry_run")):
        for planned in plan.actions:
            st.markdown(t("actions.dry_run_step", step=planned.step, kind=kind_text(t, planned.kind)))
            try:
                st.json(engine.preview(cfg, planned), expanded=False)
            except Exception as e:  # noqa: BLE001 - an invalid parameter shows as a refusal, not a crash
                st.warning(t("actions.dry_run_failed", step=planned.step, error=""))
                st.code(str(e)[:300], language=None)   # the client's own words, as it said them
    if mode == "automatic":
        st.caption(t("actions.automatic_note"))
        return
    if not who.can("operate") or plan.stale:
        if not who.can("operate"):
            st.caption(access.refusal(t, who, "operate"))
        return
    label, helptext = ("actions.propose", "actions.propose_help") if mode == "approval" \
        else ("actions.run", "actions.run_help")
    if st.button(t(label), key=f"plan_run_{book_id}_{alert['alert_id']}", type="primary", help=t(helptext)):
        act(ctx, who, "operate",
            lambda: runner.run(ctx.db, cfg, book_id, int(alert["alert_id"]), who, now=ctx.now),
            lambda result: t("actions.done_run", playbook=book_id, alert=int(alert["alert_id"]),
                             n=count_of(result)))


# ── the action log ──────────────────────────────────────────────────────────────────────────────
def actor_names(db) -> dict[str, str]:
    """actor id → name from the audit trail (the action log stores who by id)."""
    try:
        df = db.df(queries.load("pages/actor_names"))
    except Exception:  # noqa: BLE001 - no audit trail in an older file: ids are shown as they are
        return {}
    return dict(zip(df["actor"], df["actor_name"]))


def person(t, names: dict, actor) -> str:
    """Who, as shown: a name from the audit trail (the local admin in words), else the id."""
    if not isinstance(actor, str):
        return ""
    if actor == policy.local_admin().subject:
        return access.person(t, policy.local_admin().name)
    return access.person(t, names.get(actor, actor))


def actions_frame(ctx, actions: list) -> pd.DataFrame:
    t, names = ctx.t, actor_names(ctx.db)
    return pd.DataFrame({
        t("actions.col.action_id"): [a.action_id for a in actions],
        t("actions.col.status"): [status_text(t, a.status) for a in actions],
        t("actions.col.kind"): [kind_text(t, a.kind) for a in actions],
        t("actions.col.params"): [params_text(a.params) for a in actions],
        t("actions.col.playbook"): [a.playbook or "" for a in actions],
        t("actions.col.step"): [a.step for a in actions],
        t("actions.col.alert_id"): [a.alert_id for a in actions],
        t("actions.col.mode"): [mode_text(t, a.mode) for a in actions],
        t("actions.col.estimated_cost"): [fmt.money(a.estimated_cost, ctx.lang) if _value(a.estimated_cost) is not None
                                          else fmt.MISSING for a in actions],
        t("actions.col.proposed_by"): [person(t, names, a.proposed_by) for a in actions],
        t("actions.col.age"): [fmt.duration(age_seconds(ctx.now, a.proposed_at), ctx.lang) for a in actions],
        t("actions.col.external_id"): [a.external_id or "" for a in actions],
        t("actions.col.last_error"): [a.last_error or "" for a in actions],
    })


def action_table(ctx, actions: list, *, key: str) -> None:
    st.dataframe(actions_frame(ctx, actions), hide_index=True, width="stretch", key=key)


def transitions_frame(ctx, rows) -> pd.DataFrame:
    df = pd.DataFrame([r if isinstance(r, dict) else vars(r) for r in rows]) \
        if not isinstance(rows, pd.DataFrame) else rows
    if df.empty:
        return df
    t, names = ctx.t, actor_names(ctx.db)
    return pd.DataFrame({
        t("actions.col.happened_at"): [fmt.ts(x, ctx.lang, ctx.tz, seconds=True) for x in df["happened_at"]],
        t("actions.col.from_status"): [status_text(t, s) if isinstance(s, str) else "" for s in df["from_status"]],
        t("actions.col.to_status"): [status_text(t, s) for s in df["to_status"]],
        t("actions.col.actor"): [person(t, names, a) for a in df["actor"]],
        t("actions.col.note"): [n if isinstance(n, str) else "" for n in df["note"]],
    })


def manual_document(action) -> bytes:
    """The manual fallback's document: the file the engine wrote (tower.actions.manual, e.g. the PO
    as CSV), else the action's fields and request as a CSV built here."""
    path = Path(action.manual_document) if getattr(action, "manual_document", None) else None
    if path is not None and path.is_file():
        return path.read_bytes()
    return fallback_csv(action).encode()


def fallback_csv(action) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["field", "value"])
    writer.writerow(["action_id", action.action_id])
    writer.writerow(["idempotency_key", action.idempotency_key])
    writer.writerow(["kind", action.kind])
    params = action.params if isinstance(action.params, dict) else json.loads(action.params or "{}")
    for k, v in params.items():
        writer.writerow([k, v])
    request = action.request if isinstance(action.request, dict) else json.loads(action.request or "null") or {}
    for k in ("method", "url"):
        if request.get(k):
            writer.writerow([f"request_{k}", request[k]])
    if request.get("body") is not None:
        writer.writerow(["request_body", json.dumps(request["body"], ensure_ascii=False)])
    if action.last_error:
        writer.writerow(["why_manual", action.last_error])
    return out.getvalue()


def action_controls(ctx, who, action, *, key: str) -> None:
    """The buttons this user may press on one action, by its status and the user's role."""
    t, aid = ctx.t, int(action.action_id)
    cfg = getattr(ctx.runtime, "config", None)
    k = f"{key}_{aid}"

    def done(fallback):
        return lambda result: t("actions.done", id=aid, status=status_text(t, _status_of(result, fallback)))

    if action.status == "proposed" and who.can("approve"):
        st.markdown(f"**#{aid}** {kind_text(t, action.kind)} · {params_text(action.params)}")
        comment = st.text_input(t("actions.reject_comment"), key=f"{k}_comment")
        c1, c2 = st.columns(2)
        if c1.button(t("actions.approve"), key=f"{k}_approve", type="primary"):
            act(ctx, who, "approve", lambda: engine.approve(ctx.db, cfg, who, aid, now=ctx.now, comment=comment),
                done("approved"))
        if c2.button(t("actions.reject"), key=f"{k}_reject"):
            act(ctx, who, "approve", lambda: engine.reject(ctx.db, who, aid, now=ctx.now, comment=comment),
                done("rejected"))
    if not who.can("operate"):
        return
    if sendable(action):
        if st.button(f"{t('actions.execute')} #{aid}", key=f"{k}_execute"):
            act(ctx, who, "operate", lambda: engine.execute(ctx.db, cfg, who, aid, now=ctx.now), done("sent"))
    if action.status in REVERTIBLE:
        unsent = action.status in ("proposed", "approved")
        label = t("actions.withdraw" if unsent else "actions.revert")
        if st.button(f"{label} #{aid}", key=f"{k}_revert", help=t("actions.withdraw_help" if unsent else "actions.revert_help")):
            act(ctx, who, "operate", lambda: engine.revert(ctx.db, cfg, who, aid, now=ctx.now), done("reverted"))
    if action.status == "manual":
        st.warning(t("actions.manual_note"))
        if getattr(action, "manual_message", None):
            st.code(action.manual_message, language=None)
        if not who.can("analyse"):  # every download is an audited export (tower.auth.exports)
            st.caption(access.refusal(t, who, "analyse"))
        access.download(ctx, who, t("actions.manual_doc"), lambda: manual_document(action),
                        file_name=downloads.file_name("action", str(aid), action.kind, at=ctx.now, ext="csv"),
                        mime="text/csv", key=f"{k}_doc", detail={"action_id": aid})
        external = st.text_input(t("actions.external_id"), key=f"{k}_external")
        note = st.text_input(t("actions.manual_comment"), key=f"{k}_note")
        if st.button(f"{t('actions.confirm_manual')} #{aid}", key=f"{k}_confirm"):
            act(ctx, who, "operate",
                lambda: engine.confirm_manual(ctx.db, who, aid, now=ctx.now, external_id=external or None,
                                              comment=note),
                done("sent"))


# ── the wall screen's strip ─────────────────────────────────────────────────────────────────────
def in_flight(ctx) -> list:
    """The actions in flight, read once per data version for every wall screen (an action's every
    step is a committed write, so the version moves with it): read per refresh, twenty screens
    queued on the database every few seconds."""
    return shared_result(ctx.db, _cached_in_flight, _in_flight, (), {}, as_of=None, stale_ok=ctx.stale_ok)


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=8)
def _cached_in_flight(db_key: str, data_version: int, params: dict, _db) -> list:
    return _in_flight(params, _db)


def _in_flight(params: dict, db) -> list:
    return action_log.listing(db, statuses=list(action_log.IN_FLIGHT), limit=50)


def strip_html(ctx, actions: list, limit: int = 8) -> str:
    """Actions in flight as coloured pills (status and age), newest first, readable across a room."""
    pills = []
    for a in actions[:limit]:
        text = ctx.t("actions.strip_item", id=a.action_id, kind=kind_text(ctx.t, a.kind),
                     status=status_text(ctx.t, a.status),
                     age=fmt.duration(age_seconds(ctx.now, a.proposed_at), ctx.lang))
        # on a wall screen the pills are read from across the room: larger than the page's badges
        size = ' style="font-size:1.2rem"' if getattr(ctx, "kiosk", False) else ""
        pills.append(f'<span class="tower-badge {STATUS_RAG.get(a.status, "grey")}"{size}>{_escape(text)}</span>')
    return '<div class="tower-strip">' + "".join(pills) + "</div>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_strip(ctx) -> None:
    """The compact "actions in flight" strip for the overview / wall screen; silent when the
    action log is missing (an older database), a short line when nothing is in flight."""
    try:
        actions = in_flight(ctx)
    except Exception:  # noqa: BLE001 - a wall screen must keep drawing without the action log
        return
    st.markdown(f"**{ctx.t('actions.strip_title')}**")
    if not actions:
        st.caption(ctx.t("actions.strip_none"))
        return
    st.markdown(strip_html(ctx, actions, limit=8 if ctx.kiosk else 12), unsafe_allow_html=True)
