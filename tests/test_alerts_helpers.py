"""Shared helpers for the alert tests (literal-row databases built through the real schema, alert
settings from the real config file with test overrides), and focused tests of the alert helper
modules: settings parsing, rule-row handling, lifecycle transitions, playbooks, diagnosis, banner."""
from __future__ import annotations

import copy
import json
import tomllib
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from connectors import derived
from tower.alerts import settings as settings_mod
from tower.auth.policy import Identity
from tower.db import Database

T0 = datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)
# who moves alerts in these tests: operators, signed in (the name is what alert_log records)
MEI = Identity("mei-sub", "mei", frozenset({"operator"}))
LI = Identity("li-sub", "li", frozenset({"operator"}))


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def put(db: Database, table: str, *rows: dict) -> None:
    """Insert literal rows by column name (missing columns stay null)."""
    with db.cursor() as cur:
        for row in rows:
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            cur.execute(f"insert into {table} ({cols}) values ({marks})", list(row.values()))
        derived.rebuild(cur)  # rows written straight into the tables: derived tables recomputed


def raw_config() -> dict:
    with settings_mod.DEFAULT_PATH.open("rb") as f:
        return tomllib.load(f)


def make_settings(engine: dict | None = None, rules: dict | None = None, only: list[str] | None = None,
                  notify: dict | None = None):
    """Settings from config/alerts.toml with overrides; `only` keeps just those rules."""
    raw = copy.deepcopy(raw_config())
    # tests drive a manual clock; the wall-time floor has its own test (test_alerts_engine.py)
    raw["engine"].update({"min_interval_wall_s": 0, **(engine or {})})
    if only is not None:
        raw["rules"] = {k: v for k, v in raw["rules"].items() if k in only}
    for name, table in (rules or {}).items():
        raw["rules"].setdefault(name, {}).update(table)
    if notify is not None:
        raw["notify"] = notify
    return settings_mod.from_dict(raw, "test")


def stock(db: Database, sku: str, wh: str, at: datetime, available: int) -> None:
    put(db, "stock_observations", dict(sku=sku, warehouse_id=wh, observed_at=at, available=available))


def policy(db: Database, sku: str, wh: str, warning: int, limit: int, safety: int | None = None) -> None:
    put(db, "stock_policies", dict(sku=sku, warehouse_id=wh, warning_qty=warning, limit_qty=limit,
                                    safety_qty=safety if safety is not None else limit))


# ─── tests of the helper modules ──────────────────────────────────────────────────────────────────
from tower.alerts import diagnosis, lifecycle, playbooks, rules, ui  # noqa: E402


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "h.duckdb")
    yield d
    d.close()


def test_settings_turn_rule_tables_into_bound_parameters_with_overrides():
    s = make_settings(engine={"hold_count": 4, "clear_count": 5},
                      rules={"shipment_exception": {"hold_count": 1}})
    assert (s.hold_count, s.clear_count) == (4, 5)
    assert (s.rules["stock_watermark"].hold_count, s.rules["stock_watermark"].clear_count) == (4, 5)
    assert s.rules["shipment_exception"].hold_count == 1            # a rule's own override wins
    otr = s.rules["on_time_rate"].params
    assert "playbook" not in otr and "hold_count" not in otr        # engine keys are not SQL params
    assert json.loads(otr["yellow_target"]) == {"default": 95, "GB": 92}   # tables travel as JSON
    assert s.rules["on_time_rate"].playbook == "customer_kpi"
    assert s.notify.channels_for("red")[0].platform == "slack" and len(s.notify.channels_for("red")) == 4
    assert [c.name for c in s.notify.channels_for("yellow")] == ["ops_slack"]
    off = make_settings(rules={"nps": {"enabled": False}})
    assert not off.rules["nps"].enabled


@pytest.mark.parametrize("change, message", [
    ({"engine": {"hold_count": 0}}, "hold_count must be at least 1"),
    ({"engine": {"clear_count": "often"}}, "clear_count must be a whole number"),
    ({"engine": {"min_interval_s": "soon"}}, "min_interval_s must be a number"),
    ({"rules": {"no_such_rule": {}}}, "no rule file queries/alerts/no_such_rule.sql"),
    ({"rules": {"nps": 3}}, "[rules.nps] must be a table"),
    ({"notify": {"channels": {"x": {"platform": "telegram"}}}}, "platform must be one of"),
    ({"notify": {"routes": {"purple": []}}}, "unknown severity 'purple'"),
    ({"notify": {"routes": {"red": ["nowhere"]}}}, "unknown channels ['nowhere']"),
])
def test_a_bad_alerts_config_names_the_field(change, message):
    raw = copy.deepcopy(raw_config())
    for section, table in change.items():
        if section == "rules":
            raw["rules"] = table
        else:
            raw[section] = {**raw.get(section, {}), **table}
    with pytest.raises(settings_mod.AlertConfigError) as e:
        settings_mod.from_dict(raw, "test.toml")
    assert message in str(e.value) and "test.toml" in str(e.value)


def test_settings_file_lookup_and_unreadable_files(tmp_path, monkeypatch):
    good = tmp_path / "alerts.toml"
    good.write_text("[engine]\nhold_count = 7\n")
    monkeypatch.setenv("TOWER_ALERTS_CONFIG", str(good))
    assert settings_mod.load().hold_count == 7                       # the environment names the file
    monkeypatch.delenv("TOWER_ALERTS_CONFIG")
    assert settings_mod.load(good).rules == {}
    with pytest.raises(settings_mod.AlertConfigError, match="not found"):
        settings_mod.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine\n")
    with pytest.raises(settings_mod.AlertConfigError, match="not valid TOML"):
        settings_mod.load(bad)


def test_bound_passes_exactly_the_parameters_the_sql_uses():
    sql = "select $now, $yellow_target, $yellow_target_extra"
    assert rules.bound(sql, {"now": 1, "yellow_target": 2, "yellow_target_extra": 3, "unused": 4}) == {
        "now": 1, "yellow_target": 2, "yellow_target_extra": 3}
    with pytest.raises(KeyError, match="yellow_target_extra"):
        rules.bound(sql, {"now": 1, "yellow_target": 2})


def test_rule_rows_are_checked_collapsed_and_cleaned(db, monkeypatch):
    sql = ("select * from (values "
           "('yellow', 'sku', 'A', 't1', null, 'nan'::double, 1.0), "
           "('red', 'sku', 'A', 't2', 'd', 5.0, 'inf'::double), "     # same entity: the red row wins
           "('purple', 'sku', 'B', 't3', null, 1.0, 1.0), "            # unknown severity: dropped
           "('red', 'sku', null, 't4', null, 1.0, 1.0)) "              # no entity: dropped
           "as t(severity, entity_type, entity_id, title, detail, metric, threshold)")
    monkeypatch.setattr(rules.queries, "load", lambda name: sql)
    with db.cursor() as cur:
        found = rules.run(cur, "fake", {})
    assert len(found) == 1
    f = found[0]
    assert (f.severity, f.entity_id, f.title, f.metric, f.threshold) == ("red", "A", "t2", 5.0, None)
    monkeypatch.setattr(rules.queries, "load", lambda name: "select 'red' as colour")
    with db.cursor() as cur, pytest.raises(ValueError, match="expected"):
        rules.run(cur, "fake", {})


def an_alert(db, alert_id=1, state="open", severity="red"):
    put(db, "alerts", dict(alert_id=alert_id, rule="stock_watermark", entity_type="sku_warehouse",
                           entity_id=f"S{alert_id}@W", severity=severity, state=state, title="t",
                           opened_at=T0, open_key=None if state == "resolved" else f"k{alert_id}"))


def log_of(db, alert_id):
    with db.cursor() as cur:
        return cur.execute("select action, actor, old_value, new_value, note from alert_log "
                           "where alert_id = ? order by log_id", [alert_id]).fetchall()


def test_lifecycle_moves_are_logged_with_who_and_what(db):
    an_alert(db)
    lifecycle.assign(db, 1, "li", MEI, T0)
    lifecycle.acknowledge(db, 1, MEI, "  calling the 3PL  ", T0 + hours(0.2))
    lifecycle.snooze(db, 1, T0 + hours(3), MEI, T0 + hours(0.3), note="waiting for the truck")
    done = lifecycle.resolve(db, 1, LI, "stock moved from WH-2", T0 + hours(1))
    assert done["state"] == "resolved"
    a = db.df("select * from alerts").iloc[0]
    assert (a.owner, a.acknowledged_by, a.ack_comment, a.resolved_by) == ("li", "mei", "calling the 3PL", "li")
    assert db.df("select count(open_key) as n from alerts").n[0] == 0    # the key is free again
    assert log_of(db, 1) == [
        ("assigned", "mei", None, "li", None),
        ("acknowledged", "mei", "open", "acknowledged", "calling the 3PL"),
        ("snoozed", "mei", None, (T0 + hours(3)).isoformat(), "waiting for the truck"),
        ("resolved", "li", "acknowledged", "resolved", "stock moved from WH-2")]


@pytest.mark.parametrize("move, message", [
    (lambda db: lifecycle.acknowledge(db, 1, None, None, T0), "not signed in may not acknowledge"),
    (lambda db: lifecycle.resolve(db, 1, MEI, "", T0), "A resolution note is required"),
    (lambda db: lifecycle.assign(db, 1, "", MEI, T0), "Owner is required"),
    (lambda db: lifecycle.snooze(db, 1, T0 - hours(1), MEI, T0), "snooze end must be in the future"),
    (lambda db: lifecycle.acknowledge(db, 99, MEI, None, T0), "alert #99 does not exist"),
    (lambda db: lifecycle.acknowledge(db, 2, MEI, None, T0), "alert #2 is resolved, not open"),
    (lambda db: lifecycle.resolve(db, 2, MEI, "again", T0), "alert #2 is already resolved"),
    (lambda db: lifecycle.assign(db, 2, "li", MEI, T0), "alert #2 is already resolved"),
])
def test_invalid_lifecycle_moves_explain_themselves_and_change_nothing(db, move, message):
    an_alert(db, 1)
    an_alert(db, 2, state="resolved")
    before = db.df("select * from alerts order by alert_id")
    with pytest.raises((lifecycle.LifecycleError, PermissionError), match=message):
        move(db)
    assert db.df("select * from alerts order by alert_id").equals(before)
    assert db.df("select count(*) as n from alert_log").n[0] == 0
    assert db.df("select count(*) as n from audit_log").n[0] == 0


def test_banner_counts_skip_snoozed_and_resolved_and_only_new_reds_pop_up(db):
    an_alert(db, 1, severity="red")
    an_alert(db, 2, severity="yellow")
    an_alert(db, 3, state="resolved")
    an_alert(db, 4, severity="red")
    lifecycle.snooze(db, 4, T0 + hours(2), MEI, T0)
    assert ui.open_alert_counts(db, T0 + hours(1)) == {"red": 1, "yellow": 1}
    assert ui.open_alert_counts(db, T0 + hours(3)) == {"red": 2, "yellow": 1}   # snooze over
    assert ui.new_red_ids([5, 4, 1], None) == []        # a screen switched on mid-incident: no chime
    assert ui.new_red_ids([5, 4, 1], 4) == [5]


def test_every_configured_playbook_exists_and_has_its_sections():
    for rule in make_settings().rules.values():
        book = playbooks.load(rule.playbook)
        assert book is not None, rule.playbook
        assert book.section("Actions"), rule.playbook
        assert rule.playbook in diagnosis.SECTIONS
    assert playbooks.load("../secrets") is None and playbooks.load("no_such_playbook") is None


def test_diagnosis_headline_numbers_and_a_failing_section_is_an_error_not_a_crash(db, monkeypatch):
    put(db, "warehouses", dict(warehouse_id="WH-1", market="US"))
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    stock(db, "SKU-A", "WH-1", T0 - hours(1), 30)
    d = diagnosis.diagnose(db, "stock_below_watermark", "SKU-A@WH-1", T0)
    assert not d.errors
    assert d.numbers["available"] == 30 and d.numbers["inbound_units"] == 0
    real_load = diagnosis.queries.load
    monkeypatch.setattr(diagnosis.queries, "load",
                        lambda name: "select * from no_such_table" if name.endswith("inbound") else real_load(name))
    d = diagnosis.diagnose(db, "stock_below_watermark", "SKU-A@WH-1", T0)
    assert set(d.errors) == {"inbound"} and "sku_cover" in d.sections
    assert diagnosis.diagnose(db, "no_such_playbook", "x", T0).sections == {}


def test_diagnosing_many_alerts_at_once_gives_each_exactly_its_own_diagnosis(db):
    """The automatic playbook pass diagnoses every open alert in one go: each entity must get the
    rows and numbers of its own SKU and scope, as if diagnosed alone, and one with no data none."""
    put(db, "warehouses", dict(warehouse_id="WH-1", market="US"), dict(warehouse_id="WH-2", market="US"),
        dict(warehouse_id="WH-3", market="DE"))
    for sku, wh, units in (("SKU-A", "WH-1", 30), ("SKU-A", "WH-2", 50), ("SKU-A", "WH-3", 7), ("SKU-B", "WH-1", 5)):
        stock(db, sku, wh, T0 - hours(1), units)
    put(db, "purchase_orders", dict(po_id="PO-A", sku="SKU-A", supplier_id="S", warehouse_id="WH-1", quantity_ordered=400,
                                    ordered_at=T0 - hours(48), promised_ship_date=T0 + hours(48), status="open"))
    entities = ["SKU-A@US", "SKU-A@WH-3", "SKU-B@US", "SKU-C@US"]
    many = diagnosis.diagnose_many(db, "demand_surge", entities, T0)
    assert list(many) == entities
    assert {e: (d.numbers["available"], d.numbers["inbound_units"]) for e, d in many.items()} == {
        "SKU-A@US": (80, 400), "SKU-A@WH-3": (7, 400), "SKU-B@US": (5, 0), "SKU-C@US": (0, 0)}
    assert many["SKU-A@US"].sections["sku_cover"].warehouse_id.tolist() == ["WH-1", "WH-2"]
    for entity, d in many.items():
        alone = diagnosis.diagnose(db, "demand_surge", entity, T0)
        assert not d.errors and d.numbers == alone.numbers, entity
        assert d.sections.keys() == alone.sections.keys() == {"sku_cover", "inbound", "backup_capacity"}
        for name, frame in d.sections.items():
            assert "entity_id" not in frame.columns
            pd.testing.assert_frame_equal(frame, alone.sections[name], check_dtype=False)
