"""The audit trail (issue 12): every kind of write — alert moves, new events, notes, downloads,
console queries — appends one row saying who (subject, name, roles, merchant), when (Tower's clock
and the real time), from where (origin, sign-in route) and what changed; a change and its row
commit together or not at all; nothing in queries/ can update or delete a row; admins read it on
the Audit page (filtered, in English and Chinese) and the retro's timeline shows who did what."""
# ruff: noqa: F811 - pytest fixtures imported from ui_fixtures are test parameters by the same name
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_alerts_helpers import T0, an_alert, hours
from test_alerts_page import _hashable_runtimes  # noqa: F401
from ui_fixtures import ROOT, populated_db, tower_env  # noqa: F401

from tower import retro
from tower import sql_console as sc
from tower.alerts import lifecycle
from tower.auth import exports
from tower.auth.policy import Identity
from tower.db import Database
from tower.ui import session

MEI = Identity("oidc|mei", "mei@example.com", frozenset({"operator"}), origin="10.1.2.3", via="oidc")
ANA = Identity("oidc|ana", "ana@example.com", frozenset({"analyst"}), merchant="nordic-nest",
               origin="10.1.2.4", via="oidc")
ADMIN = Identity("oidc|root", "root@example.com", frozenset({"admin"}), origin="10.1.2.5")


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "audit.duckdb")
    yield d
    d.close()


def trail(db):
    return db.df("select * from audit_log order by audit_id")


def test_every_kind_of_write_appends_who_when_where_and_what(db):
    an_alert(db, 1)
    started = datetime.now(UTC)
    lifecycle.assign(db, 1, "li", MEI, T0)
    lifecycle.acknowledge(db, 1, MEI, "calling the 3PL", T0 + hours(0.1))
    lifecycle.snooze(db, 1, T0 + hours(2), MEI, T0 + hours(0.2))
    lifecycle.resolve(db, 1, MEI, "stock moved", T0 + hours(0.3))
    event_id = retro.create_event(db, MEI, "Restock push", T0, T0 + hours(4), T0 + hours(0.4))
    note_id = retro.add_annotation(db, MEI, "Truck left", T0 + hours(0.4), T0 + hours(0.5), event_id)
    exports.export(db, ANA, "tower_sql_x.csv", lambda: "a,b\n1,2\n", at=T0 + hours(0.6), detail={"rows": 1})
    sc.run(db, "select 42 as answer", who=ANA, now=T0 + hours(0.7), per_minute=0)

    rows = trail(db)
    assert rows.action.tolist() == ["alert.assign", "alert.acknowledge", "alert.snooze", "alert.resolve",
                                    "event.create", "annotation.add", "export", "console.query"]
    assert rows.target.tolist() == ["alert:1"] * 4 + [f"event:{event_id}", f"annotation:{note_id}",
                                                       "tower_sql_x.csv", "sql_console"]
    # when: Tower's clock as the caller passed it, and the real time of recording
    assert [t.to_pydatetime() for t in rows.happened_at] == [T0 + hours(h / 10) for h in range(8)]
    assert all(started - timedelta(seconds=1) <= t.to_pydatetime() <= datetime.now(UTC)
               for t in rows.wall_at)
    # who and from where
    ops, reads = rows.iloc[:6], rows.iloc[6:]
    assert set(ops.actor) == {"oidc|mei"} and set(ops.actor_name) == {"mei@example.com"}
    assert set(ops.roles) == {"operator"} and set(ops.origin) == {"10.1.2.3"} and set(ops.via) == {"oidc"}
    assert set(reads.actor) == {"oidc|ana"} and set(reads.merchant_id) == {"nordic-nest"}
    assert ops.merchant_id.isna().all()
    # what changed
    detail = [json.loads(d) for d in rows.detail]
    assert (detail[0]["old"], detail[0]["new"]) == (None, "li")
    assert (detail[1]["old"], detail[1]["new"], detail[1]["note"]) == ("open", "acknowledged", "calling the 3PL")
    assert detail[2]["new"] == (T0 + hours(2)).isoformat()
    assert (detail[3]["old"], detail[3]["new"], detail[3]["note"]) == ("acknowledged", "resolved", "stock moved")
    assert detail[4]["new"]["name"] == "Restock push"
    assert detail[5]["new"]["text"] == "Truck left"
    assert detail[6] == {"bytes": len("a,b\n1,2\n"), "rows": 1}
    assert detail[7]["sql"] == "select 42 as answer"


def test_console_queries_are_audited_even_when_refused_and_long_sql_is_truncated(db):
    with pytest.raises(sc.Refused):
        sc.run(db, "drop table orders", who=ANA, per_minute=0)
    long_sql = "select 1 as x -- " + "y" * 10_000
    sc.run(db, long_sql, who=ANA, per_minute=0)
    rows = trail(db)
    assert rows.action.tolist() == ["console.query", "console.query"]
    assert json.loads(rows.detail[0])["sql"] == "drop table orders"
    kept = json.loads(rows.detail[1])
    assert kept["chars"] == len(long_sql) and len(kept["sql"]) == sc.AUDIT_SQL_CHARS


def test_a_change_and_its_audit_row_commit_together_or_not_at_all(db):
    """An identity the audit table cannot record (no subject) makes the audit insert fail: the alert
    move, its alert_log row, the note and the event it came with are rolled back too."""
    broken = Identity(None, "ghost", frozenset({"operator"}))  # type: ignore[arg-type]
    an_alert(db, 1)
    before = db.df("select * from alerts")
    with pytest.raises(Exception, match="(?i)not null|constraint"):
        lifecycle.acknowledge(db, 1, broken, "x", T0)
    assert db.df("select * from alerts").equals(before)
    assert db.df("select count(*) as n from alert_log").n[0] == 0
    with pytest.raises(Exception, match="(?i)not null|constraint"):
        retro.add_annotation(db, broken, "note", T0, T0)
    with pytest.raises(Exception, match="(?i)not null|constraint"):
        retro.create_event(db, broken, "Ghost sale", T0, T0 + hours(1), T0)
    assert db.df("select count(*) as n from annotations").n[0] == 0
    assert db.df("select count(*) as n from events").n[0] == 0
    assert trail(db).empty


def test_invalid_moves_and_refusals_leave_no_audit_row(db):
    an_alert(db, 1)
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.resolve(db, 1, MEI, "  ", T0)
    with pytest.raises(PermissionError):
        lifecycle.resolve(db, 1, ANA, "done", T0)
    with pytest.raises(PermissionError):
        exports.export(db, MEI, "x.csv", lambda: b"", at=T0)
    assert trail(db).empty


# ── append-only ───────────────────────────────────────────────────────────────────────────────
_CHANGES_AUDIT = re.compile(
    r"\b(update\s+(main\.)?audit_log|delete\s+from\s+(main\.)?audit_log|truncate\s+(table\s+)?(main\.)?audit_log"
    r"|drop\s+table\s+(if\s+exists\s+)?(main\.)?audit_log|alter\s+table\s+(main\.)?audit_log"
    r"|insert\s+or\s+replace\s+into\s+(main\.)?audit_log)\b", re.IGNORECASE)


def statements_changing_the_audit_log(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.sql")):
        text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", path.read_text(), flags=re.DOTALL)
        found += [f"{path.relative_to(folder)}: {m.group(0)}" for m in _CHANGES_AUDIT.finditer(text)]
        if re.search(r"insert\s+into\s+(main\.)?audit_log", text, re.IGNORECASE) and re.search(r"on\s+conflict", text, re.IGNORECASE):
            found.append(f"{path.relative_to(folder)}: insert … on conflict")
    return found


def test_no_query_updates_or_deletes_the_audit_log():
    assert statements_changing_the_audit_log(ROOT / "queries") == []


@pytest.mark.parametrize("sql", ["update audit_log set actor = 'x'", "DELETE FROM main.audit_log",
                                 "truncate audit_log", "drop table if exists audit_log",
                                 "insert into audit_log select 1 on conflict do nothing"])
def test_the_append_only_scan_catches_a_change(tmp_path, sql):
    (tmp_path / "sneaky.sql").write_text(f"-- looks harmless\n{sql}\n")
    assert statements_changing_the_audit_log(tmp_path)


# ── the Audit page ────────────────────────────────────────────────────────────────────────────
def open_audit(who, **query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[session.IDENTITY_KEY] = who
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def seed_trail(path, now):
    db = Database(path)
    try:
        retro.add_annotation(db, MEI, "first", now - timedelta(hours=2), now - timedelta(hours=2))
        exports.export(db, ANA, "tower_retro_report.html", lambda: "<html>", at=now - timedelta(hours=1))
        retro.add_annotation(db, MEI, "second", now, now)
        retro.add_annotation(db, MEI, "too old to show", now - timedelta(days=30), now - timedelta(days=30))
    finally:
        db.close()


def test_audit_page_lists_newest_first_and_filters_by_who_action_and_date(tower_env, populated_db):
    seed_trail(populated_db.path, populated_db.now)
    tower_env(populated_db.path)
    at = open_audit(ADMIN)
    table = at.dataframe[0].value
    assert table["Action"].tolist() == ["added a note", "downloaded", "added a note"]   # last 7 days
    assert table["Who"].tolist() == ["mei@example.com", "ana@example.com", "mei@example.com"]
    assert table["On"].tolist()[1] == "tower_retro_report.html"
    assert table["From"].tolist()[1] == "10.1.2.4" and table["Roles"].tolist()[1] == "analyst"
    assert table["Signed in via"].tolist()[1] == "sign-in"
    assert '"bytes": 6' in table["What changed"].tolist()[1]

    at.selectbox(key="audit_f_actor").set_value("oidc|ana").run()
    assert at.dataframe[0].value["Action"].tolist() == ["downloaded"]
    at.selectbox(key="audit_f_actor").set_value(None).run()
    at.selectbox(key="audit_f_action").set_value("annotation.add").run()
    assert at.dataframe[0].value["Who"].tolist() == ["mei@example.com"] * 2
    at.date_input(key="audit_f_from").set_value(populated_db.now.date() - timedelta(days=40)).run()
    assert len(at.dataframe[0].value) == 3                                   # the old note too
    at.date_input(key="audit_f_to").set_value(populated_db.now.date() - timedelta(days=50)).run()
    assert any("end date is before the start date" in e.value for e in at.error)
    assert not at.dataframe


def test_audit_page_reads_in_chinese(tower_env, populated_db):
    seed_trail(populated_db.path, populated_db.now)
    tower_env(populated_db.path)
    at = open_audit(ADMIN, lang="zh")
    assert at.title[0].value == "审计"
    table = at.dataframe[0].value
    assert "操作人" in table.columns and table["操作"].tolist() == ["添加了批注", "下载了", "添加了批注"]
    assert table["角色"].tolist()[1] == "分析师"


@pytest.mark.parametrize("who", [MEI, ANA, Identity("v", "vic", frozenset({"viewer"})),
                                 Identity("approver-sub", "al", frozenset({"operator", "approver"}))])
def test_audit_page_refuses_everyone_but_admins_and_shows_no_rows(tower_env, populated_db, who):
    seed_trail(populated_db.path, populated_db.now)
    tower_env(populated_db.path)
    at = open_audit(who)
    assert not at.dataframe
    assert not {"audit_f_actor", "audit_f_action"} & {w.key for w in at.selectbox}
    refusal = " ".join(w.value for w in [*at.warning, *at.info])
    if who.scoped:  # a merchant is turned away before the role check, by its scope
        assert "for administrators, not for nordic-nest" in refusal
    else:
        assert "may not change configuration and read the audit trail" in refusal and "admin role" in refusal
    assert "mei@example.com" not in str([e.value for e in at.markdown])


# ── the retro timeline uses it ────────────────────────────────────────────────────────────────
def test_retro_timeline_has_who_did_what_but_not_reads(db):
    an_alert(db, 1)
    lifecycle.acknowledge(db, 1, MEI, "on it", T0 + hours(1))
    exports.export(db, ANA, "x.csv", lambda: "x", at=T0 + hours(1.5))
    sc.run(db, "select 1", who=ANA, now=T0 + hours(1.6), per_minute=0)
    lifecycle.resolve(db, 1, MEI, "done", T0 + hours(2))
    deeds = retro.audit_events(db, retro.Window(T0, T0 + hours(3), "w"))
    assert deeds[["actor_name", "action", "target"]].values.tolist() == [
        ["mei@example.com", "alert.acknowledge", "alert:1"], ["mei@example.com", "alert.resolve", "alert:1"]]
    assert retro.audit_events(db, retro.Window(T0 + hours(3), T0 + hours(4), "later")).empty


def test_retro_page_shows_who_did_what(tower_env, populated_db):
    seed_trail(populated_db.path, populated_db.now)
    tower_env(populated_db.path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[session.IDENTITY_KEY] = ADMIN
    at.run()
    at.switch_page("pages/retro.py").run()
    assert not at.exception
    deeds = next(df.value for df in at.dataframe if "Who" in df.value.columns and "On" in df.value.columns)
    assert "mei@example.com" in deeds["Who"].tolist() and "added a note" in deeds["Action"].tolist()
    assert "downloaded" not in deeds["Action"].tolist()
