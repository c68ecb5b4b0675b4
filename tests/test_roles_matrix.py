"""Who can do what, enforced on the server (issue 12): every page that writes, exports or queries,
driven in AppTest through app.py as each of the five roles. For each write the allowed roles succeed
and leave an audit row; a refused role gets a refusal in words and the database is unchanged (its
tables compared before and after). Also the widget states a refused user's browser was never shown:
the domain functions called directly with a viewer, session-state keys of buttons and forms the page
never rendered for them, and a role taken away between drawing a button and clicking it."""
# ruff: noqa: F811 - pytest fixtures imported from ui_fixtures are test parameters by the same name
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_alerts_page import _hashable_runtimes, raise_alerts  # noqa: F401
from ui_fixtures import ROOT, populated_db, reset_app_caches, tower_env  # noqa: F401

from tower import retro
from tower import sql_console as sc
from tower.alerts import lifecycle
from tower.auth import exports, policy
from tower.auth.policy import Identity
from tower.db import Database
from tower.ui import session

WHO = {role: Identity(f"{role}-sub", f"{role} user", frozenset({role}), origin="10.0.0.7", via="oidc")
       for role in policy.ROLES}
OPERATES = {"operator", "approver", "admin"}
ANALYSES = {"analyst", "admin"}
# Every table a page could write to; compared whole before and after a refused attempt.
WATCHED = ("alerts", "alert_log", "annotations", "events", "audit_log")


def open_as(page: str, who: Identity, **query):
    """app.py in AppTest with `who` signed in from the first run, switched to `page`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[session.IDENTITY_KEY] = who
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tables(path) -> dict[str, pd.DataFrame]:
    """The watched tables, read after the app let go of the file (its runtime is closed first)."""
    reset_app_caches()
    db = Database(path, read_only=True)
    try:
        return {t: db.df(f"select * from {t} order by all") for t in WATCHED}
    finally:
        db.close()


def audit_rows(path) -> pd.DataFrame:
    return tables(path)["audit_log"]


def assert_unchanged(before: dict, after: dict) -> None:
    for name in WATCHED:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def texts(at) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.error, at.caption) for e in kind)


def surge_alert(db_path, now) -> int:
    _, df = raise_alerts(db_path, now)
    return int(df[df.rule == "demand_surge"].alert_id.iloc[0])


# ── alerts: acknowledge / resolve need "operate" ──────────────────────────────────────────────
@pytest.mark.parametrize("role", policy.ROLES)
def test_alert_moves_on_the_page_as_each_role(tower_env, populated_db, role):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    before = tables(populated_db.path)
    tower_env(populated_db.path)
    at = open_as("pages/alerts.py", WHO[role])
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    keys = {b.key for b in at.button}
    if role in OPERATES:
        assert {"alerts_ack", "alerts_assign", "alerts_snooze", "alerts_resolve"} <= keys
        at.text_area(key="alerts_ack_comment").input("calling the 3PL").run()
        at.button(key="alerts_ack").click().run()
        assert not at.exception
        after = tables(populated_db.path)
        alert = after["alerts"].set_index("alert_id").loc[alert_id]
        assert (alert.state, alert.acknowledged_by) == ("acknowledged", f"{role} user")
        new = after["audit_log"].iloc[len(before["audit_log"]):]
        assert len(new) == 1
        row = new.iloc[0]
        assert (row.actor, row.actor_name, row.roles, row.origin, row.via) == (
            f"{role}-sub", f"{role} user", role, "10.0.0.7", "oidc")
        assert (row.action, row.target) == ("alert.acknowledge", f"alert:{alert_id}")
        assert '"old": "open"' in row.detail and '"new": "acknowledged"' in row.detail
    else:
        assert not keys & {"alerts_ack", "alerts_assign", "alerts_snooze", "alerts_resolve"}
        assert "may not acknowledge" in texts(at) and "operator" in texts(at)
        # the viewer's browser never got these widgets; a forged state for them does nothing
        at.session_state["alerts_ack"] = True
        at.session_state["alerts_resolve"] = True
        at.session_state["alerts_resolve_note"] = "forged"
        at.session_state["alerts_owner"] = "forged"
        at.run()
        assert not at.exception
        assert_unchanged(before, tables(populated_db.path))


def test_a_role_taken_away_between_drawing_and_clicking_changes_nothing(tower_env, populated_db):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    before = tables(populated_db.path)
    tower_env(populated_db.path)
    at = open_as("pages/alerts.py", WHO["operator"])
    at.selectbox(key="alerts_selected").set_value(alert_id).run()
    at.text_area(key="alerts_resolve_note").input("fixed")
    at.button(key="alerts_resolve").click()
    at.session_state[session.IDENTITY_KEY] = WHO["viewer"]   # demoted before the click arrives
    at.run()
    assert not at.exception
    assert "may not acknowledge" in texts(at)
    assert_unchanged(before, tables(populated_db.path))


@pytest.mark.parametrize("move", ["acknowledge", "assign", "snooze", "resolve"])
@pytest.mark.parametrize("role", sorted(set(policy.ROLES) - OPERATES))
def test_alert_moves_called_directly_refuse_without_operate(populated_db, role, move):
    alert_id = surge_alert(populated_db.path, populated_db.now)
    before = tables(populated_db.path)
    db = Database(populated_db.path)
    now = populated_db.now
    calls = {
        "acknowledge": lambda who: lifecycle.acknowledge(db, alert_id, who, "c", now),
        "assign": lambda who: lifecycle.assign(db, alert_id, "me", who, now),
        "snooze": lambda who: lifecycle.snooze(db, alert_id, now + pd.Timedelta(hours=1), who, now),
        "resolve": lambda who: lifecycle.resolve(db, alert_id, who, "done", now),
    }
    try:
        with pytest.raises(policy.Refused, match="needs the operator or approver or admin role"):
            calls[move](WHO[role])
        with pytest.raises(policy.Refused, match="not signed in"):
            calls[move](None)
    finally:
        db.close()
    assert_unchanged(before, tables(populated_db.path))


# ── retro: notes and event windows need "operate"; downloads need "analyse" ───────────────────
@pytest.mark.parametrize("role", policy.ROLES)
def test_retro_notes_events_and_downloads_as_each_role(tower_env, populated_db, role):
    before = tables(populated_db.path)
    tower_env(populated_db.path)
    at = open_as("pages/retro.py", WHO[role])
    downloads = at.get("download_button")
    if role in ANALYSES:
        assert len(downloads) >= 2           # HTML report, data pack (and the scorecard CSV when there are cards)
    else:
        assert not downloads
        assert "may not use the SQL console, downloads" in texts(at)
    labels = [b.label for b in at.button]
    if role in OPERATES:
        at.text_area(key="retro_note_text").input("Air freight booked")
        at.button[labels.index("Add annotation")].click().run()
        assert not at.exception
        after = tables(populated_db.path)
        note = after["annotations"].iloc[-1]
        assert (note.text, note.author) == ("Air freight booked", f"{role} user")
        new = after["audit_log"].iloc[len(before["audit_log"]):]
        assert list(new.action) == ["annotation.add"] and list(new.actor) == [f"{role}-sub"]
        assert "Air freight booked" in new.iloc[0].detail
    else:
        assert "Add annotation" not in labels and "Create event" not in labels
        assert "may not acknowledge" in texts(at)
        at.session_state["retro_note_text"] = "forged note"
        at.session_state["retro_new_name"] = "forged event"
        at.run()
        assert not at.exception
        assert_unchanged(before, tables(populated_db.path))


@pytest.mark.parametrize("role", policy.ROLES)
def test_events_and_notes_called_directly(populated_db, role):
    before = tables(populated_db.path)
    db = Database(populated_db.path)
    now = populated_db.now
    try:
        if role in OPERATES:
            event_id = retro.create_event(db, WHO[role], "Restock push", now, now + pd.Timedelta(hours=2), now)
            note_id = retro.add_annotation(db, WHO[role], "Truck arrived", now, now, event_id)
            audit = db.df("select action, target, actor from audit_log order by audit_id")
            assert audit.values.tolist() == [["event.create", f"event:{event_id}", f"{role}-sub"],
                                             ["annotation.add", f"annotation:{note_id}", f"{role}-sub"]]
            return
        with pytest.raises(policy.Refused):
            retro.create_event(db, WHO[role], "Restock push", now, now + pd.Timedelta(hours=2), now)
        with pytest.raises(policy.Refused):
            retro.add_annotation(db, WHO[role], "Truck arrived", now, now, None)
    finally:
        db.close()
    assert_unchanged(before, tables(populated_db.path))


@pytest.mark.parametrize("role", policy.ROLES)
def test_the_bytes_of_a_download_are_built_only_for_analysts(populated_db, role):
    """What the download buttons call on click: the check is in the builder, not the button."""
    db = Database(populated_db.path)
    built = []
    window = retro.Window(populated_db.now - pd.Timedelta(hours=6), populated_db.now, "w", "member-day")

    def pack():
        built.append(True)
        return retro.data_pack(db, window, {}, populated_db.now)

    try:
        if role in ANALYSES:
            data = exports.export(db, WHO[role], "tower_retro_data.zip", pack, at=populated_db.now)
            assert data[:2] == b"PK" and built
            row = db.df("select action, target, actor, detail from audit_log").iloc[0]
            assert (row.action, row.target, row.actor) == ("export", "tower_retro_data.zip", f"{role}-sub")
            assert f'"bytes": {len(data)}' in row.detail
        else:
            with pytest.raises(policy.Refused, match="needs the analyst or admin role"):
                exports.export(db, WHO[role], "tower_retro_data.zip", pack, at=populated_db.now)
            assert not built
            assert db.df("select count(*) as n from audit_log").n[0] == 0
    finally:
        db.close()


# ── the SQL console needs "analyse", is rate-limited per user, audits every query ─────────────
@pytest.mark.parametrize("role", policy.ROLES)
def test_console_page_as_each_role(tower_env, populated_db, role):
    before = tables(populated_db.path)
    tower_env(populated_db.path)
    at = open_as("pages/sql_console.py", WHO[role])
    if role in ANALYSES:
        at.text_area(key="sql_console.sql").input("select count(*) as n from orders")
        at.button(key="sql_console.run").click().run()
        assert not at.exception and not at.error
        assert len(at.get("download_button")) == 2
        new = audit_rows(populated_db.path).iloc[len(before["audit_log"]):]
        assert list(new.action) == ["console.query"] and list(new.actor) == [f"{role}-sub"]
        assert "select count(*) as n from orders" in new.iloc[0].detail
    else:
        assert "may not use the SQL console" in texts(at)
        assert not at.text_area and not at.get("download_button")
        at.session_state["sql_console.sql"] = "select * from orders"
        at.session_state["sql_console.run"] = True
        at.run()
        assert not at.exception and not at.dataframe
        assert_unchanged(before, tables(populated_db.path))


@pytest.mark.parametrize("role", sorted(set(policy.ROLES) - ANALYSES))
def test_console_called_directly_refuses_without_analyse(populated_db, role):
    db = Database(populated_db.path)
    try:
        with pytest.raises(policy.Refused, match="needs the analyst or admin role"):
            sc.run(db, "select * from orders", who=WHO[role])
        assert db.df("select count(*) as n from audit_log").n[0] == 0
    finally:
        db.close()


def test_console_rate_limit_refuses_in_words_and_runs_nothing(populated_db):
    who = Identity("rate-sub", "busy analyst", frozenset({"analyst"}))
    db = Database(populated_db.path)
    try:
        for _ in range(2):
            assert sc.run(db, "select 1 as one", who=who, per_minute=2).rows == 1
        with pytest.raises(sc.RateLimited, match=r"ran 2 queries in the last minute.*next one may run in \d+ s"):
            sc.run(db, "select 1 as one", who=who, per_minute=2)
        # another user is not held back by this one
        other = Identity("rate-other", "other analyst", frozenset({"analyst"}))
        assert sc.run(db, "select 1 as one", who=other, per_minute=2).rows == 1
        assert db.df("select count(*) as n from audit_log where actor = 'rate-sub'").n[0] == 2
    finally:
        db.close()


def test_console_rate_limit_on_the_page_comes_from_tower_toml(tower_env, populated_db):
    tower_env(populated_db.path, "[console]\nqueries_per_minute = 1\n")
    at = open_as("pages/sql_console.py", Identity("page-rate-sub", "ana", frozenset({"analyst"})))
    at.text_area(key="sql_console.sql").input("select 1 as one")
    at.button(key="sql_console.run").click().run()
    assert not at.error
    at.button(key="sql_console.run").click().run()
    assert any("1 queries in the last minute" in e.value for e in at.error)
    at = open_as("pages/sql_console.py", Identity("page-rate-sub", "ana", frozenset({"analyst"})), lang="zh")
    at.text_area(key="sql_console.sql").input("select 1 as one")
    at.button(key="sql_console.run").click().run()
    assert any("达到控制台的每人上限" in e.value for e in at.error)


# ── the audit trail is for admins ─────────────────────────────────────────────────────────────
@pytest.mark.parametrize("role", policy.ROLES)
def test_audit_page_as_each_role(tower_env, populated_db, role):
    db = Database(populated_db.path)
    try:
        retro.add_annotation(db, WHO["operator"], "a note for the trail", populated_db.now, populated_db.now)
    finally:
        db.close()
    tower_env(populated_db.path)
    at = open_as("pages/audit.py", WHO[role])
    if role == "admin":
        table = at.dataframe[0].value
        assert list(table["Who"]) == ["operator user"] and list(table["Action"]) == ["added a note"]
    else:
        assert not at.dataframe
        assert "may not change configuration and read the audit trail" in texts(at)
