"""The execution engine: propose → approve/reject → execute → sent/acknowledged → done, or failed,
manual, reverted. It never doubles an order:

- one intent, one key, one row: the key is a hash of (playbook, alert, step, kind, params) and
  `actions.idempotency_key` is unique, so a double click or two replicas find the same row;
- "sending" is committed BEFORE the request goes out, and the request carries the key: a crash
  mid-call leaves the action in "sending", and `recover` sends it again with the same key, which the
  vendor deduplicates;
- every status change is a compare-and-set: two workers executing one action, one of them sends.

Permissions are checked here, on the server (tower.auth.policy.require), whatever the UI shows."""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.actions import registry
from connectors.actions.base import ActionRefused, ActionUnavailable, Sent
from tower.actions import kinds, log, manual, store
from tower.actions.errors import ActionInvalid
from tower.actions.log import Action
from tower.auth.policy import Identity, Refused, require

__all__ = ["ActionInvalid", "Refused", "AUTOMATIC", "propose", "approve", "reject", "execute",
           "confirm_manual", "revert", "preview", "reconcile", "recover", "default_key"]

MODES = ("manual", "approval", "automatic")
# The reconciler moves actions on what the connectors bring back; it acts as an operator.
RECONCILER = Identity("reconciler", "reconciler", frozenset({"operator"}), via="system")
PROPOSE_TRIES = 20
ALREADY_OUT = ("sending", "sent", "acknowledged", "done", "manual", "reverting", "reverted")


def AUTOMATIC(playbook_id: str) -> Identity:  # noqa: N802 - the name the runner and the UI use
    """Who an automatic playbook acts as: an operator, named after the playbook in the log."""
    return Identity(f"automatic:{playbook_id}", f"automatic playbook {playbook_id}",
                    frozenset({"operator"}), via="automatic")


def settings(cfg) -> dict:
    """[actions.engine] with defaults: tries per send, first backoff (s), longest wait (s, also the
    cap on a vendor's Retry-After), hours (Tower time) a sent action may wait for its confirmation."""
    given = ((cfg.raw.get("actions") or {}).get("engine") or {}) if cfg is not None else {}
    return {"max_attempts": 3, "backoff_s": 1.0, "max_backoff_s": 30.0, "confirm_timeout_h": 6.0, **given}


def default_key(playbook: str | None, alert_id: int | None, step: int | None, kind: str, params: dict) -> str:
    intent = json.dumps({"playbook": playbook, "alert_id": alert_id, "step": step, "kind": kind,
                         "params": params}, sort_keys=True, separators=(",", ":"), default=str)
    return "tower-" + hashlib.sha256(intent.encode()).hexdigest()[:32]


def _get(db, action_id: int) -> Action:
    action = log.get(db, action_id)
    if action is None:
        raise ActionInvalid(f"no action {action_id}")
    return action


def _client(kind: str, cfg):
    try:
        return registry.client_for(kind, cfg)
    except ValueError as e:
        raise ActionInvalid(str(e)) from None


# ── proposing and deciding ──────────────────────────────────────────────────────────────────────
def propose(db, cfg, who: Identity, kind: str, params: dict, *, now: datetime, mode: str = "manual",
            playbook: str | None = None, step: int | None = None, alert_id: int | None = None,
            execution_id: str | None = None, diagnosis: dict | None = None, key: str | None = None) -> Action:
    """Record an action as proposed (validated, costed) and return it; the same key returns the
    existing row unchanged. Raises Refused (no "operate") or ActionInvalid (bad params)."""
    require(who, "operate")
    if mode not in MODES:
        raise ActionInvalid(f"mode: must be one of {', '.join(MODES)} (got {mode!r})")
    model = kinds.validate(db, kind, params, now)
    stored = kinds.canonical(model)
    key = key or default_key(playbook, alert_id, step, kind, stored)
    cost = kinds.estimate_cost(db, kind, model, cfg, now)
    # A racer that holds the key uncommitted makes our insert give way before its row is visible:
    # look again shortly (it commits, or it rolled back and our next insert wins).
    for attempt in range(PROPOSE_TRIES):
        existing = log.by_key(db, key)
        if existing is not None:
            return existing
        store.insert(db, key=key, kind=kind, mode=mode, params=stored, diagnosis=diagnosis,
                     estimated_cost=cost, who=who, now=now, playbook=playbook, step=step, alert_id=alert_id,
                     execution_id=execution_id, audit_extra="approval.request" if mode == "approval" else None)
        existing = log.by_key(db, key)
        if existing is not None:
            return existing
        time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"action with key {key} was neither added nor found after {PROPOSE_TRIES} tries")


def approve(db, cfg, who: Identity, action_id: int, *, now: datetime, comment: str = "") -> Action:
    """Four eyes: an approver other than the proposer approves a proposed action."""
    require(who, "approve")
    action = _get(db, action_id)
    if action.status == "approved" and action.decided_by == who.subject:
        return action  # a double click
    if action.status != "proposed":
        raise ActionInvalid(f"action {action_id} is {action.status}: only a proposed action can be approved")
    if action.proposed_by == who.subject:
        raise Refused(f"{who.name} proposed action {action_id}: another approver must approve it (four eyes).")
    _move_or_explain(db, action, "approved", who, now, note=comment or None, decided_by=who.subject,
                     decided_at=now, decision_comment=comment or None)
    return _get(db, action_id)


def reject(db, who: Identity, action_id: int, *, now: datetime, comment: str) -> Action:
    """An approver turns a proposed (or approved, not yet sent) action down, saying why."""
    require(who, "approve")
    if not (comment or "").strip():
        raise ActionInvalid("comment: say why the action is rejected")
    action = _get(db, action_id)
    if action.status == "rejected":
        return action
    if action.status not in ("proposed", "approved"):
        raise ActionInvalid(f"action {action_id} is {action.status}: only a proposed or approved action "
                            "can be rejected")
    _move_or_explain(db, action, "rejected", who, now, note=comment.strip(), decided_by=who.subject,
                     decided_at=now, decision_comment=comment.strip())
    return _get(db, action_id)


def _move_or_explain(db, action: Action, to_status: str, who: Identity, now: datetime, **kwargs) -> None:
    try:
        store.move(db, action, to_status, who, now, **kwargs)
    except store.Lost:
        current = _get(db, action.action_id)
        raise ActionInvalid(f"action {action.action_id} changed meanwhile: it is {current.status} now") from None


# ── sending ─────────────────────────────────────────────────────────────────────────────────────
def execute(db, cfg, who: Identity, action_id: int, *, now: datetime) -> Action:
    """Send the action once. An action already out (sending, sent, acknowledged …) is returned as
    it is: executing twice never sends twice."""
    require(who, "operate")
    action = _get(db, action_id)
    if action.status in ALREADY_OUT:
        return action
    if action.status not in ("proposed", "approved"):
        raise ActionInvalid(f"action {action_id} is {action.status}: it cannot be executed")
    if action.mode == "approval" and action.status != "approved":
        raise Refused(f"action {action_id} needs an approver's approval before it runs (approval mode).")
    client = _client(action.kind, cfg)
    try:
        request = client.preview(action.params, action.idempotency_key)
    except ActionRefused as e:  # the client cannot even build the request: it never will
        _move_or_explain(db, action, "failed", who, now, note=str(e), last_error=str(e))
        return _get(db, action_id)
    try:
        store.move(db, action, "sending", who, now, attempts_add=1, request=request)
    except store.Lost:
        return _get(db, action_id)  # another worker claimed it: it sends, not us
    return _deliver(db, cfg, who, client, _get(db, action_id), now)


def _wait(cfg):
    backoff = wait_exponential(multiplier=float(settings(cfg)["backoff_s"]),
                               max=float(settings(cfg)["max_backoff_s"]))
    cap = float(settings(cfg)["max_backoff_s"])

    def wait(state) -> float:
        asked = getattr(state.outcome.exception(), "retry_after_s", None)
        return min(cap, max(0.0, float(asked))) if asked is not None else backoff(state)
    return wait


def _with_retries(db, cfg, action: Action, now: datetime, call):
    """`call()` retried on ActionUnavailable with backoff (honouring Retry-After), each failed try
    counted on the action. The last ActionUnavailable is raised."""
    def count(state) -> None:
        store.attempt_failed(db, action.action_id, str(state.outcome.exception()), now)

    for attempt in Retrying(stop=stop_after_attempt(int(settings(cfg)["max_attempts"])), wait=_wait(cfg),
                            retry=retry_if_exception_type(ActionUnavailable), before_sleep=count,
                            reraise=True):
        with attempt:
            return call()


def _deliver(db, cfg, who: Identity, client, action: Action, now: datetime) -> Action:
    """The HTTP part of an action already committed as "sending", and its outcome."""
    try:
        sent: Sent = _with_retries(db, cfg, action, now,
                                   lambda: client.send(action.params, action.idempotency_key))
    except ActionRefused as e:
        store.move(db, action, "failed", who, now, note=str(e), last_error=str(e), response=e.response)
    except Exception as e:  # unreachable after retries, or a client bug: a person takes over
        error = str(e) if isinstance(e, ActionUnavailable) else f"{type(e).__name__}: {e}"
        try:
            path, text = manual.write(cfg, action, error)
        except OSError as disk:  # no document (disk full …), still a visible manual action with its message
            path, text = None, manual.message(action, error) + f"\n\n(document not written: {disk})"
        store.move(db, action, "manual", who, now, note=f"API unavailable, manual procedure: {error}",
                   last_error=error, manual_document=str(path) if path else None, manual_message=text)
    else:
        status = "acknowledged" if sent.acknowledged else "sent"
        store.move(db, action, status, who, now, note=f"vendor id {sent.external_id}" if sent.external_id else None,
                   sent_at=now, acknowledged_at=now if sent.acknowledged else None,
                   external_id=sent.external_id, request=sent.request, response=sent.response,
                   vendor_cost=sent.cost, eta=sent.eta)
    return _get(db, action.action_id)


def confirm_manual(db, who: Identity, action_id: int, *, now: datetime, external_id: str | None = None,
                   comment: str = "") -> Action:
    """Someone sent the manual document by hand and the vendor took it: manual → acknowledged."""
    require(who, "operate")
    action = _get(db, action_id)
    if action.status in ("acknowledged", "done") and action.manual_document:
        return action  # confirmed already
    if action.status != "manual":
        raise ActionInvalid(f"action {action_id} is {action.status}: only a manual action can be confirmed")
    _move_or_explain(db, action, "acknowledged", who, now, note=comment or "confirmed by hand",
                     audit_action="action.confirm_manual", sent_at=now, acknowledged_at=now,
                     external_id=(external_id or "").strip() or None)
    return _get(db, action_id)


def preview(cfg, action) -> dict:
    """The dry run: the exact request execute would send ({"method", "url", "body"}); sends nothing.
    `action` is an Action, or a planned step with kind and params (its key then derived as propose
    would: from playbook, alert_id and step when it has them)."""
    params = kinds.canonical(kinds.parse(action.kind, action.params))   # as propose would store them
    key = getattr(action, "idempotency_key", None) or getattr(action, "key", None) or default_key(
        getattr(action, "playbook", None), getattr(action, "alert_id", None), getattr(action, "step", None),
        action.kind, params)
    return _client(action.kind, cfg).preview(params, key)


# ── undoing ─────────────────────────────────────────────────────────────────────────────────────
def revert(db, cfg, who: Identity, action_id: int, *, now: datetime) -> Action:
    """Undo a sent action through the vendor (cancel the PO, restore the ship time, expire the
    coupon); an action not sent yet is just cancelled. Raises ActionInvalid when it cannot be undone."""
    require(who, "operate")
    action = _get(db, action_id)
    if action.status in ("reverting", "reverted", "cancelled"):
        return action
    if action.status in ("proposed", "approved"):
        _move_or_explain(db, action, "cancelled", who, now, note="withdrawn before it was sent")
        return _get(db, action_id)
    if action.status not in ("sent", "acknowledged", "done"):
        raise ActionInvalid(f"action {action_id} is {action.status}: there is nothing sent to undo")
    if action.kind in kinds.CANNOT_UNDO:
        raise ActionInvalid(f"a {action.kind} action cannot be undone: it was delivered")
    client = _client(action.kind, cfg)
    try:
        store.move(db, action, "reverting", who, now)
    except store.Lost:
        return _get(db, action_id)
    return _undo(db, cfg, who, client, _get(db, action_id), action.status, now)


def _undo(db, cfg, who: Identity, client, action: Action, back_to: str, now: datetime) -> Action:
    try:
        undone = _with_retries(db, cfg, action, now, lambda: client.compensate(
            action.params, action.external_id or "", action.idempotency_key))
    except (ActionRefused, ActionUnavailable) as e:
        problem = f"the vendor did not undo it: {e}"
    else:
        if undone is not None:
            store.move(db, action, "reverted", who, now, response=undone.response,
                       note=f"undone (vendor id {undone.external_id})" if undone.external_id else "undone")
            return _get(db, action.action_id)
        problem = f"the vendor's API cannot undo a {action.kind}"
    store.move(db, action, back_to, who, now, note=problem, last_error=problem, audit_action="action.revert_failed")
    raise ActionInvalid(f"action {action.action_id}: {problem}")


# ── after the fact: confirmations and crashes ───────────────────────────────────────────────────
def reconcile(db, cfg, now: datetime) -> int:
    """Move actions on what the connectors brought back; returns how many moved.
    A raise_po whose PO number the supplier portal now lists is acknowledged, and done once goods
    ship (failed if the supplier cancelled it); a storefront write or message acknowledged by its reply is done, a booking or transfer
    once its ETA has passed; a sent action whose
    confirmation has not come within [actions] confirm_timeout_h (Tower time) has failed."""
    moved = 0
    for row in store.po_confirmations(db):
        action = _get(db, row["action_id"])
        try:
            if row["po_cancelled"]:
                error = f"the supplier cancelled PO {action.external_id}"
                moved += _try(db, action, "failed", now, note=error, last_error=error)
                continue
            if action.status == "sent" and row["po_known"]:
                store.move(db, action, "acknowledged", RECONCILER, now, acknowledged_at=now,
                           note="PO number seen in the supplier portal")
                moved += 1
                action = _get(db, action.action_id)
            if action.status == "acknowledged" and row["goods_shipped"]:
                store.move(db, action, "done", RECONCILER, now, done_at=now, note="the supplier shipped goods")
                moved += 1
        except store.Lost:
            continue
    for action in log.listing(db, statuses=["acknowledged"], limit=100_000):
        if action.kind in kinds.EFFECT_ON_REPLY:
            moved += _try(db, action, "done", now, note="the vendor's reply is the effect", done_at=now)
    for action_id in store.ids(db, "actions/eta_passed", now=now):
        moved += _try(db, _get(db, action_id), "done", now, note="its ETA has passed", done_at=now)
    cutoff = now - timedelta(hours=float(settings(cfg)["confirm_timeout_h"]))
    for action_id in store.ids(db, "actions/sent_unconfirmed", cutoff=cutoff):
        error = f"confirmation never came within {settings(cfg)['confirm_timeout_h']:g} h of sending"
        moved += _try(db, _get(db, action_id), "failed", now, note=error, last_error=error)
    return moved


def _try(db, action: Action, to_status: str, now: datetime, **kwargs) -> int:
    try:
        store.move(db, action, to_status, RECONCILER, now, **kwargs)
        return 1
    except store.Lost:
        return 0


def recover(db, cfg, now: datetime) -> int:
    """At start-up, before anything executes: actions a crash left in "sending" are sent again with
    the SAME key (the vendor deduplicates), and reverts left in "reverting" are retried the same
    way. Returns how many were resumed."""
    resumed = 0
    for action_id in store.ids(db, "actions/in_status", status="sending"):
        action = _get(db, action_id)
        try:
            store.move(db, action, "sending", RECONCILER, now, attempts_add=1,
                       note="resumed after a restart: sent again with the same key")
        except store.Lost:
            continue
        _deliver(db, cfg, RECONCILER, _client(action.kind, cfg), _get(db, action_id), now)
        resumed += 1
    for action_id in store.ids(db, "actions/in_status", status="reverting"):
        action = _get(db, action_id)
        before = [t["from_status"] for t in log.transitions(db, action_id) if t["to_status"] == "reverting"][-1]
        try:
            _undo(db, cfg, RECONCILER, _client(action.kind, cfg), action, before, now)
        except ActionInvalid:
            pass  # back in its previous status with the reason in last_error
        resumed += 1
    return resumed

