"""B-03's plan and limits on the real member day (sandbox over HTTP, real DuckDB): the PO quantity is
the gap capped as the playbook says, a stale diagnosis plans nothing, and each limit — kill switch,
cooldown, daily spend — stops an automatic run and says why. A bad playbook file is refused in words."""
from __future__ import annotations

import shutil
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.test_actions_e2e import T0, MemberDay
from tower.actions import engine, log, planner, playbooks, runner
from tower.actions.errors import ActionInvalid
from tower.auth.policy import Identity, Refused
from tower.db import Database

pytestmark = pytest.mark.timeout(600)
ADMIN = Identity("adm", "Ada Admin", frozenset({"admin"}))
OPERATOR = Identity("op", "Olga Operator", frozenset({"operator"}))


@pytest.fixture(scope="module")
def member_day(tmp_path_factory):
    """The member day synced at its start and 8 h in, the surge alert open, nothing acted yet: built
    once per module (nine syncs and evaluations, ~12 s); each test acts on its own copy (`surge`)."""
    day = MemberDay(tmp_path_factory.mktemp("member_day"), mode="automatic")
    try:
        for h in range(9):
            day.clock.set(T0 + timedelta(hours=h))
            day.scheduler.run_all()
            day.alerts.evaluate(force=True)
        alert = day.surge()
        assert len(alert), "the member-day surge fired"
        day.db.close()
        yield day, alert.iloc[0].to_dict()
    finally:
        day.close()


@pytest.fixture
def surge(member_day, tmp_path):
    """The member day at 8 h on a copy of its database. The sandbox is shared: what a test sends to
    it (a PO, a discount) no later test reads, since none syncs again."""
    day, alert = member_day
    shutil.copy(day.cfg.db_path, tmp_path / "tower.duckdb")
    db = Database(tmp_path / "tower.duckdb")
    day.clock.set(T0 + timedelta(hours=8))
    try:
        yield SimpleNamespace(db=db, cfg=day.cfg, clock=day.clock), alert
    finally:
        db.close()


def test_the_po_covers_the_gap_capped_by_the_backups_quick_capacity_and_the_limits(surge):
    day, alert = surge
    book = playbooks.get(day.cfg, "B-03")
    plan = planner.plan_for(day.db, day.cfg, book, alert, day.clock.now())
    assert plan.triggered, plan.reasons
    # independently: the diagnosis rows, the portal's capacity, the playbook's numbers
    cover = day.db.query("alerts/diagnosis/sku_cover", {"now": day.clock.now(), "entity_ids": ["GL-BOWL-01@US"]})
    rate, on_hand = cover.units_per_hour.sum(), cover.available.clip(lower=0).sum()
    hours = book.plan.horizon_hours_without_inbound if plan.numbers["hours_to_inbound"] is None \
        else plan.numbers["hours_to_inbound"]
    gap = rate * (hours + book.plan.safety_hours) - on_hand
    quick = planner.quick_response_capacity(day.cfg, plan.numbers["backup_supplier"])
    expected = int(min(gap, quick, book.limits.max_quantity) // 10 * 10)
    po = next(a for a in plan.actions if a.kind == "raise_po")
    assert po.params["quantity"] == expected > 0
    assert po.params["supplier_id"] == "CN-ANJI-02" and po.params["quick_response"] is True
    assert {a.kind for a in plan.actions} >= {"set_promised_ship_time", "create_discount", "notify"}


def test_a_stale_diagnosis_plans_nothing_and_a_run_is_refused(surge):
    day, alert = surge
    day.clock.set(day.clock.now() + timedelta(hours=3))          # no sync for three hours
    plan = planner.plan_for(day.db, day.cfg, playbooks.get(day.cfg, "B-03"), alert, day.clock.now())
    assert plan.stale and any("too old" in r for r in plan.reasons)
    with pytest.raises(ActionInvalid, match="too old"):
        runner.run(day.db, day.cfg, "B-03", int(alert["alert_id"]), OPERATOR, now=day.clock.now())
    assert runner.automatic_pass(day.db, day.cfg, day.clock.now()).actions == []
    assert log.listing(day.db) == []


def test_the_kill_switch_stops_automatic_runs_and_only_an_admin_flips_it(surge):
    day, _ = surge
    with pytest.raises(Refused):
        runner.kill_switch(day.db, OPERATOR, "B-03", False, now=day.clock.now(), reason="test")
    runner.kill_switch(day.db, ADMIN, "B-03", False, now=day.clock.now(), reason="supplier on holiday")
    out = runner.automatic_pass(day.db, day.cfg, day.clock.now())
    assert out.actions == [] and any("kill switch" in h for h in out.held)
    assert day.db.df("select count(*) n from audit_log where action = 'playbook.kill'").n[0] == 1
    runner.kill_switch(day.db, ADMIN, "B-03", True, now=day.clock.now(), reason="back")
    sent = runner.automatic_pass(day.db, day.cfg, day.clock.now()).actions
    assert {a.kind for a in sent} >= {"raise_po", "notify"}
    # a second pass (the next evaluation) sends nothing more
    assert runner.automatic_pass(day.db, day.cfg, day.clock.now()).actions == []
    assert len(log.listing(day.db, playbook="B-03")) == len(sent)


def test_a_pass_sends_what_an_interrupted_automatic_run_left_proposed_without_planning_it_again(surge):
    day, alert = surge
    now = day.clock.now()
    book = playbooks.get(day.cfg, "B-03")
    # the run proposed its plan, then the process died before sending anything
    runner._propose_all(day.db, day.cfg, engine.AUTOMATIC("B-03"), book,
                        planner.plan_for(day.db, day.cfg, book, alert, now), "automatic", now)
    proposed = log.listing(day.db, playbook="B-03")
    assert proposed and {a.status for a in proposed} == {"proposed"}
    # the next pass, three hours on and with no sync since (a plan would now be stale and do
    # nothing), finds the run under way and finishes it
    out = runner.automatic_pass(day.db, day.cfg, now + timedelta(hours=3))
    assert sorted(a.action_id for a in out.actions) == sorted(a.action_id for a in proposed), out.held
    assert not out.held
    assert "proposed" not in {a.status for a in log.listing(day.db, playbook="B-03")}


def test_the_cooldown_and_the_daily_spend_each_hold_an_automatic_run(surge):
    day, alert = surge
    now = day.clock.now()
    # a person already ordered for this SKU under B-03 an hour ago: the cooldown holds
    engine.propose(day.db, day.cfg, OPERATOR, "raise_po", {"supplier_id": "CN-ANJI-02", "sku": "GL-BOWL-01",
                   "warehouse_id": "US-WEST-LA", "quantity": 10}, now=now - timedelta(hours=1), playbook="B-03",
                   key="manual-bowl")
    out = runner.automatic_pass(day.db, day.cfg, now)
    assert out.actions == [] and any("cooldown" in h for h in out.held), out.held
    engine.reject(day.db, Identity("ap", "Arun", frozenset({"approver"})), log.by_key(day.db, "manual-bowl").action_id,
                  now=now, comment="withdrawn")
    # today's B-03 spend on another SKU already near the limit: the daily spend holds
    engine.propose(day.db, day.cfg, OPERATOR, "raise_po", {"supplier_id": "CN-ANJI-02", "sku": "GL-PLATE-01",
                   "warehouse_id": "US-WEST-LA", "quantity": 600}, now=now, playbook="B-03", key="manual-plates")
    out = runner.automatic_pass(day.db, day.cfg, now)
    assert out.actions == [] and any("daily spend" in h for h in out.held), out.held


def test_a_bad_playbook_file_is_refused_in_words(tmp_path):
    bad = tmp_path / "b03.toml"
    bad.write_text('id = "B-03"\nmode = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ActionInvalid, match="b03.toml"):
        playbooks.load(bad)
    bad.write_text("id = [", encoding="utf-8")
    with pytest.raises(ActionInvalid, match="not valid TOML"):
        playbooks.load(bad)
