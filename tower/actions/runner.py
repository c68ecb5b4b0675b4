"""Running a playbook for an alert: by a person (manual), as a proposal for an approver (approval),
or by itself after each alert evaluation (automatic, within the playbook's limits and kill switch).

Every action of one run shares execution_id "<playbook>/alert-<id>" and a key per step, so running
the same playbook for the same alert again — a double click, a second replica, the next
evaluation — finds the actions already there instead of adding new ones."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

import queries
from tower.actions import engine, log, planner, playbooks
from tower.actions.errors import ActionInvalid
from tower.auth import audit
from tower.auth.policy import Identity, require

LOG = logging.getLogger("tower.actions")


@dataclass
class Outcome:
    """What an automatic pass did: actions touched, why playbooks held back (limits, in words), and
    which alerts' triggers do not hold yet (and why)."""
    actions: list = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def execution_id(playbook_id: str, alert_id: int) -> str:
    return f"{playbook_id}/alert-{alert_id}"


def _key(playbook_id: str, alert_id: int, step: int) -> str:
    return f"{execution_id(playbook_id, alert_id)}/step-{step}"


def _alert(db, alert_id: int) -> dict:
    rows = db.query("actions/alert_get", {"alert_id": alert_id})
    if rows.empty:
        raise ActionInvalid(f"alert {alert_id} does not exist")
    return rows.iloc[0].to_dict()


def enabled(db, playbook_id: str) -> bool:
    rows = db.query("actions/control_get", {"playbook": playbook_id})
    return rows.empty or bool(rows.enabled.iloc[0])


def kill_switch(db, who: Identity, playbook_id: str, on: bool, *, now: datetime, reason: str = "") -> None:
    """Turn a playbook's automatic runs on (`on` = True) or off; admins only, audited."""
    who = require(who, "administer")
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("actions/control_set"), {"playbook": playbook_id, "enabled": bool(on),
                                                             "by": who.subject, "at": now, "reason": reason or None})
            audit.record(cur, who, "playbook.enable" if on else "playbook.kill", at=now, target=f"playbook:{playbook_id}",
                         detail={"reason": reason})
            cur.commit()
        except Exception:
            cur.rollback()
            raise


def _propose_all(db, cfg, who, book, plan: planner.Plan, mode: str, now: datetime) -> list:
    diagnosis = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in plan.numbers.items()}
    return [engine.propose(db, cfg, who, a.kind, a.params, now=now, mode=mode, playbook=book.id, step=a.step,
                           alert_id=plan.alert_id, execution_id=execution_id(book.id, plan.alert_id),
                           diagnosis=diagnosis, key=_key(book.id, plan.alert_id, a.step))
            for a in plan.actions]


def _send_all(db, cfg, who, actions: list, now: datetime) -> list:
    out = []
    for action in actions:
        try:
            out.append(engine.execute(db, cfg, who, action.action_id, now=now))
        except ActionInvalid as e:     # already sent or withdrawn: show it as it stands
            LOG.info("action %s not sent: %s", action.action_id, e)
            out.append(log.get(db, action.action_id))
    return out


def run(db, cfg, playbook_id: str, alert_id: int, who: Identity, *, now: datetime) -> list:
    """A person runs the playbook for an alert. Manual mode (and automatic, run by hand) proposes and
    sends every step; approval mode — or a plan above the approval limit — only proposes, and the
    actions wait for an approver. Refused without "operate"; a stale or untriggered plan is refused
    in words."""
    require(who, "operate")
    book = playbooks.get(cfg, playbook_id)
    if book is None:
        raise ActionInvalid(f"no executable playbook {playbook_id}")
    plan = planner.plan_for(db, cfg, book, _alert(db, alert_id), now)
    if plan.stale:
        raise ActionInvalid("; ".join(plan.reasons))
    if not plan.actions:
        raise ActionInvalid("the plan has no action to take: " + ("; ".join(plan.reasons) or "nothing to do"))
    needs_approval = book.mode == "approval" or plan.total_cost > book.limits.approval_above_usd
    actions = _propose_all(db, cfg, who, book, plan, "approval" if needs_approval else "manual", now)
    return actions if needs_approval else _send_all(db, cfg, who, actions, now)


def _held(db, book, plan: planner.Plan, now: datetime) -> str | None:
    """Why an automatic run must not go ahead, in words; None when it may."""
    if not enabled(db, book.id):
        return "kill switch is on"
    sku = plan.numbers.get("sku")
    last = db.query("actions/last_execution", {"playbook": book.id, "sku": sku}).last_at.iloc[0]
    mine = log.listing(db, execution_id=execution_id(book.id, plan.alert_id), limit=1)
    if not mine and last is not None and not pd.isna(last) and now - last.to_pydatetime() < timedelta(hours=book.limits.cooldown_hours):
        return f"cooldown: {sku} had a {book.id} run at {last:%Y-%m-%d %H:%M}, less than {book.limits.cooldown_hours:g} h ago"
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    spent = float(db.query("actions/spent_since", {"playbook": book.id, "since": day}).spent.iloc[0])
    if not mine and spent + plan.total_cost > book.limits.spend_per_day_usd:
        return (f"daily spend limit: {spent:,.0f} USD spent today + {plan.total_cost:,.0f} USD planned "
                f"> {book.limits.spend_per_day_usd:,.0f} USD")
    return None


def plan_all(db, cfg, book: playbooks.ExecutablePlaybook, alerts: list[dict],
             now: datetime) -> list[tuple[dict, planner.Plan]]:
    """The book's plan for each of these open alerts of its rule: their inputs read in one go, and
    actions only for plans that trigger (nothing else of an idle plan is used here)."""
    inputs = planner.inputs_for(db, cfg, book, sorted({planner.entity_of(a) for a in alerts}), now)
    return [(a, planner.plan_for(db, cfg, book, a, now, inputs=inputs[planner.entity_of(a)],
                                 actions_if_idle=False))
            for a in alerts]


def automatic_pass(db, cfg, now: datetime) -> Outcome:
    """After each alert evaluation: every automatic playbook whose trigger holds for an open alert
    runs within its limits (above the approval limit it only proposes). Idempotent: a later pass
    finds the same actions by their keys and sends nothing twice."""
    out = Outcome()
    try:
        books = [b for b in playbooks.load_all(cfg) if b.mode == "automatic"]
    except ActionInvalid as e:
        out.held.append(str(e))
        return out
    if not books:
        return out
    alerts = db.query("actions/open_alerts", {"rules": sorted({b.trigger.rule for b in books})})
    for book in books:
        who = engine.AUTOMATIC(book.id)
        to_plan, watched = [], alerts[alerts.rule == book.trigger.rule].to_dict("records")
        started = log.by_execution(db, [execution_id(book.id, a["alert_id"]) for a in watched])
        for alert in watched:
            existing = started.get(execution_id(book.id, alert["alert_id"]))
            if existing:   # this alert's run is under way: only finish sending what a crash left proposed
                unsent = [a for a in existing if a.mode == "automatic" and a.status == "proposed"]
                out.actions.extend(_send_all(db, cfg, who, unsent, now))
            else:
                to_plan.append(alert)
        for alert, plan in plan_all(db, cfg, book, to_plan, now):
            if not plan.triggered or not plan.actions:
                out.waiting.append(f"{book.id} for alert {alert['alert_id']} ({alert['entity_id']}): "
                                   + ("; ".join(plan.reasons) or "nothing to do"))
                continue
            reason = _held(db, book, plan, now)
            if reason:
                out.held.append(f"{book.id} for alert {alert['alert_id']}: {reason}")
                continue
            try:
                needs_approval = plan.total_cost > book.limits.approval_above_usd
                actions = _propose_all(db, cfg, who, book, plan, "approval" if needs_approval else "automatic", now)
                out.actions.extend(actions if needs_approval else _send_all(db, cfg, who, actions, now))
            except ActionInvalid as e:
                out.held.append(f"{book.id} for alert {alert['alert_id']}: {e}")
    for line in out.held:
        LOG.info("automatic playbook held: %s", line)
    return out
