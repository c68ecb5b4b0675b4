"""The Actions page and the alert's plan panel (issue 13) in AppTest through app.py, on a literal-row
database with alerts the real engine raised and actions the real action engine recorded: a viewer
sees no buttons and the engine refuses them anyway; an operator proposes, an approver approves (two
identities) and the page shows the status the database holds; the wall screen's strip lists the
actions in flight."""
from __future__ import annotations

import pytest

from connectors.actions import registry
from connectors.actions.base import ActionUnavailable
from test_alerts_page import _hashable_runtimes, raise_alerts  # noqa: F401
from tower import config as config_mod
from tower.actions import engine
from tower.actions import log as action_log
from tower.auth import policy
from tower.auth.policy import Identity, Refused
from tower.db import Database
from tower.ui import action_panel, session
from ui_fixtures import open_app, populated_db, reset_app_caches, tower_env  # noqa: F401

VIEWER = Identity("v-sub", "vera", frozenset({"viewer"}))
OPERATOR = Identity("o-sub", "mei", frozenset({"operator"}))
APPROVER = Identity("a-sub", "li.na", frozenset({"approver"}))
PO = {"supplier_id": "ZJ-BAMBOO-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity": 200}
BUTTON_WORDS = ("approve", "reject", "revert", "execute", "confirm", "kill", "plan_run")


def surge_alert(path, now) -> int:
    _, df = raise_alerts(path, now)
    return int(df[df.rule == "demand_surge"].alert_id.iloc[0])


def propose(path, cfg_path, who, alert_id, now):
    """An approval-mode PO proposed through the real engine (it validates and logs it)."""
    db = Database(path)
    try:
        cfg = config_mod.load(cfg_path)
        action = engine.propose(db, cfg, who, "raise_po", PO, now=now, mode="approval", playbook="B-03",
                                step=1, alert_id=alert_id,
                                diagnosis={"units_per_hour": 16.0, "hours_to_stockout": 2.0})
    finally:
        db.close()
    return action


def db_status(path, action_id) -> str:
    reset_app_caches()  # the app's runtime holds the file: close it before reading
    db = Database(path, read_only=True)
    try:
        return action_log.get(db, action_id).status
    finally:
        db.close()


def page_status_cell(at, action_id):
    table = next(d.value for d in at.dataframe if "#" in d.value.columns and "Status" in d.value.columns)
    return table.set_index("#").loc[action_id, "Status"]


def as_user(who, page: str, **query):
    at = open_app(None, **query)
    at.session_state[session.IDENTITY_KEY] = who
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def buttons(at) -> list[str]:
    return [b.key or "" for b in at.button if any(w in (b.key or "") for w in BUTTON_WORDS)]


def test_viewer_sees_no_buttons_and_the_engine_refuses_anyway(tower_env, populated_db):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path)
    action = propose(populated_db.path, cfg_path, OPERATOR, alert_id, populated_db.now)
    reset_app_caches()
    at = as_user(VIEWER, "pages/actions.py")
    assert page_status_cell(at, action.action_id) == "proposed"
    assert buttons(at) == []
    at = as_user(VIEWER, "pages/alerts.py")
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    assert not at.exception and buttons(at) == []
    # the server-side check: calling the engine as the viewer is refused, nothing changes
    reset_app_caches()
    db = Database(populated_db.path)
    try:
        cfg = config_mod.load(cfg_path)
        with pytest.raises(Refused):
            engine.approve(db, cfg, VIEWER, action.action_id, now=populated_db.now)
        with pytest.raises(Refused):
            engine.reject(db, VIEWER, action.action_id, now=populated_db.now, comment="no")
        with pytest.raises(Refused):
            engine.propose(db, cfg, VIEWER, "raise_po", PO, now=populated_db.now, mode="approval")
        assert action_log.get(db, action.action_id).status == "proposed"
    finally:
        db.close()


def test_operator_proposes_approver_approves_and_the_page_shows_the_db_status(tower_env, populated_db):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path)
    action = propose(populated_db.path, cfg_path, OPERATOR, alert_id, populated_db.now)
    assert action.proposed_by == OPERATOR.subject
    reset_app_caches()
    # the operator may not approve: no approve button for them
    at = as_user(OPERATOR, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    assert not [k for k in buttons(at) if "approve" in k or "reject" in k]
    # the approver approves on the page, under their own name
    at = as_user(APPROVER, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    at.text_input(key=f"actions_page_{action.action_id}_comment").input("ok, within budget").run()
    at.button(key=f"actions_page_{action.action_id}_approve").click().run()
    assert not at.exception, at.exception
    shown = page_status_cell(at, action.action_id)
    stored = db_status(populated_db.path, action.action_id)
    assert stored != "proposed"
    assert shown == {"manual": "manual (API down)"}.get(stored, stored)
    db = Database(populated_db.path, read_only=True)
    try:
        row = action_log.get(db, action.action_id)
        steps = action_log.transitions(db, action.action_id)
    finally:
        db.close()
    assert (row.decided_by, row.decision_comment) == (APPROVER.subject, "ok, within budget")
    assert [s["actor"] for s in steps][:2] == [OPERATOR.subject, APPROVER.subject]
    # the page names people as the audit trail knows them
    assert "li.na" in set(at.dataframe[-1].value.iloc[:, 3]) or any("li.na" in str(d.value.values) for d in at.dataframe)


def test_reject_needs_a_comment_and_records_it(tower_env, populated_db):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path)
    action = propose(populated_db.path, cfg_path, OPERATOR, alert_id, populated_db.now)
    reset_app_caches()
    at = as_user(APPROVER, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    at.button(key=f"actions_page_{action.action_id}_reject").click().run()
    assert not at.exception
    assert db_status(populated_db.path, action.action_id) == "proposed"   # no comment: refused in words
    at = as_user(APPROVER, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    at.text_input(key=f"actions_page_{action.action_id}_comment").input("backup is over budget").run()
    at.button(key=f"actions_page_{action.action_id}_reject").click().run()
    assert not at.exception
    assert page_status_cell(at, action.action_id) == "rejected"
    assert db_status(populated_db.path, action.action_id) == "rejected"


def test_alert_panel_lists_its_actions_and_overview_strip_shows_them_in_flight(tower_env, populated_db):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path)
    action = propose(populated_db.path, cfg_path, OPERATOR, alert_id, populated_db.now)
    reset_app_caches()
    at = as_user(APPROVER, "pages/alerts.py")
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    assert not at.exception
    assert f"alert_{alert_id}_{action.action_id}_approve" in [b.key for b in at.button]
    at = as_user(VIEWER, "pages/overview.py", kiosk=1)
    strip = [m.value for m in at.markdown if "tower-strip" in m.value and f"#{action.action_id}" in m.value]
    assert strip and "proposed" in strip[0]


class DownVendor:
    """A supplier whose API does not answer: every send is ActionUnavailable (as a timeout would be)."""
    kind = "raise_po"

    def preview(self, params, key):
        return {"method": "POST", "url": "https://portal.example/po", "body": {**params, "reference": key}}

    def send(self, params, key):
        raise ActionUnavailable("timed out after 10 s", status=None)

    def compensate(self, params, external_id, key):
        return None


def test_vendor_down_shows_the_manual_fallback_and_confirming_it_is_tracked(tower_env, populated_db, monkeypatch):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path, "[actions.engine]\nmax_attempts = 1\nbackoff_s = 0\nmax_backoff_s = 0\n")
    monkeypatch.setitem(registry.FACTORIES, "raise_po", lambda cfg: DownVendor())
    db = Database(populated_db.path)
    try:
        action = engine.propose(db, config_mod.load(cfg_path), OPERATOR, "raise_po", PO, now=populated_db.now,
                                mode="manual", playbook="B-03", step=1, alert_id=alert_id)
    finally:
        db.close()
    reset_app_caches()
    at = as_user(OPERATOR, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    at.button(key=f"actions_page_{action.action_id}_execute").click().run()
    assert not at.exception, at.exception
    assert page_status_cell(at, action.action_id) == "manual (API down)"
    # the operator gets the message to send; the document is an audited export (analyse)
    assert any("Quick-response purchase order" in c.value for c in at.code)
    assert not at.get("download_button")
    admin = as_user(policy.local_admin(), "pages/actions.py")
    admin.selectbox(key="actions_selected").set_value(action.action_id).run()
    assert len(admin.get("download_button")) == 1
    reset_app_caches()
    db = Database(populated_db.path, read_only=True)
    try:
        stored = action_log.get(db, action.action_id)
    finally:
        db.close()
    document = action_panel.manual_document(stored).decode()
    assert "ZJ-BAMBOO-02" in document and "200" in document
    # someone sent it by hand: confirming it moves it on, with the supplier's PO number
    at = as_user(OPERATOR, "pages/actions.py")
    at.selectbox(key="actions_selected").set_value(action.action_id).run()
    at.text_input(key=f"actions_page_{action.action_id}_external").input("ZJ-PO-7781").run()
    at.button(key=f"actions_page_{action.action_id}_confirm").click().run()
    assert not at.exception
    assert page_status_cell(at, action.action_id) == "acknowledged"
    reset_app_caches()
    db = Database(populated_db.path, read_only=True)
    try:
        stored = action_log.get(db, action.action_id)
    finally:
        db.close()
    assert (stored.status, stored.external_id) == ("acknowledged", "ZJ-PO-7781")


def surge_books(cfg_path):
    return action_panel.executable_for(config_mod.load(cfg_path), "demand_surge")


def test_alert_shows_its_plan_with_numbers_and_the_role_buttons(tower_env, populated_db):
    """The surge alert shows B-03's plan (step, action, parameters, cost, why) and its dry run; the
    button follows the playbook's mode and the user's role, and pressing it records actions."""
    alert_id = surge_alert(populated_db.path, populated_db.now)
    cfg_path = tower_env(populated_db.path)
    books = surge_books(cfg_path)
    assert books, "no executable playbook is triggered by the demand surge (plan B-03)"
    book = books[0]
    reset_app_caches()
    at = as_user(VIEWER, "pages/alerts.py")
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    assert not at.exception
    assert not [b for b in at.button if (b.key or "").startswith("plan_run_")]   # a viewer: no button
    plan = next(d.value for d in at.dataframe if "Why" in d.value.columns)
    assert list(plan.columns) == ["Step", "Action", "Parameters", "Cost (USD)", "Why"]
    assert len(plan) >= 1
    assert any("Dry run" in e.label for e in at.expander)
    at = as_user(OPERATOR, "pages/alerts.py")
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    run_buttons = [b for b in at.button if (b.key or "") == f"plan_run_{book.id}_{alert_id}"]
    if book.mode == "automatic":
        assert not run_buttons and any("runs by itself" in c.value for c in at.caption)
        return
    assert [b.label for b in run_buttons] == ["Propose" if book.mode == "approval" else "Run"]
    run_buttons[0].click().run()
    assert not at.exception, at.exception
    reset_app_caches()
    db = Database(populated_db.path, read_only=True)
    try:
        recorded = action_log.listing(db, alert_id=alert_id)
    finally:
        db.close()
    assert recorded and all(a.proposed_by == OPERATOR.subject for a in recorded)
    if book.mode == "approval":
        assert {a.status for a in recorded} == {"proposed"}


def test_admin_flips_the_kill_switch_of_an_automatic_playbook(tower_env, populated_db):
    cfg_path = tower_env(populated_db.path, '[actions.playbook.B-03]\nmode = "automatic"\n')
    automatic = [b for b in action_panel.playbooks.load_all(config_mod.load(cfg_path)) if b.mode == "automatic"]
    assert automatic, "B-03 ships in automatic mode"
    pid = str(automatic[0].id)
    reset_app_caches()
    at = as_user(OPERATOR, "pages/actions.py")
    assert f"actions_kill_{pid}" not in [b.key for b in at.button]           # not an admin
    at = as_user(policy.local_admin(), "pages/actions.py")
    at.text_input(key=f"actions_kill_reason_{pid}").input("supplier asked us to pause").run()
    at.button(key=f"actions_kill_{pid}").click().run()
    assert not at.exception, at.exception
    assert any("stopped by" in m.value and "supplier asked us to pause" in m.value for m in at.markdown)
    reset_app_caches()
    db = Database(populated_db.path, read_only=True)
    try:
        row = db.df("select enabled, changed_by, reason from playbook_controls where playbook = ?", [pid])
    finally:
        db.close()
    assert (bool(row.enabled[0]), row.changed_by[0], row.reason[0]) == (False, "local", "supplier asked us to pause")
