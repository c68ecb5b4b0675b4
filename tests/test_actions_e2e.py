"""Issue 13 end to end on the sandbox member day, over real HTTP: the surge → the demand_surge alert →
B-03 → a quick-response PO the supplier portal shows → its progress ingested → stock recovers → fewer
lost sales than the same seed without the playbook. Once automatically (the action worker's pass after
each evaluation), once in approval mode with two people."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.scheduler import Scheduler
from connectors.testing import sources_for, write_config
from sandbox.server import start as start_sandbox
from tower import config as config_mod
from tower.actions import engine, log, runner
from tower.actions.worker import ActionWorker
from tower.alerts.engine import AlertEngine
from tower.alerts.settings import load as load_settings
from tower.auth.policy import Identity, Refused
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

pytestmark = pytest.mark.timeout(600)
T0 = datetime(2026, 11, 20, 9, 7, tzinfo=UTC)        # the drama's anchor (tests/test_world_drama.py)
EVENT_START, EVENT_END = T0 + timedelta(hours=0.5), T0 + timedelta(hours=24.5)
SKU, MARKET = "GL-BOWL-01", "US"
SOURCES = ["planning", "supplier_portal", "shopify"]
OPERATOR = Identity("op-1", "Olga Operator", frozenset({"operator"}))
APPROVER = Identity("ap-1", "Arun Approver", frozenset({"approver"}))


def actions_table(**extra) -> dict:
    return {"playbooks": ["B-03"], "forwarder_url": "{sandbox}/forwarder/v1", "wms_url": "{sandbox}/wms/v1",
            "team_channel_url": "{sandbox}/chat/hooks/war-room", "messaging_url": "{sandbox}/messaging/v1",
            "engine": {"max_attempts": 2, "backoff_s": 0.05, "max_backoff_s": 0.2}, **extra}


class MemberDay:
    """The sandbox on a ManualClock, Tower's connectors, alert engine and action worker, hour by hour."""

    def __init__(self, folder, *, mode: str | None):
        self.clock = ManualClock(T0)
        self.sandbox = start_sandbox(SandboxConfig(port=0, history_days=7, scenarios=("member_day",)), self.clock)
        write_config(folder, self.sandbox.url, sources={k: v for k, v in sources_for().items() if k in SOURCES})
        extra = {"modes": {"B-03": mode}} if mode else {"playbooks": []}
        self.cfg = config_mod.load(folder / "tower.toml", actions=actions_table(**extra))
        self.db = Database(self.cfg.db_path)
        self.scheduler = Scheduler(self.db, self.cfg, self.clock)
        self.alerts = AlertEngine(self.db, load_settings(), self.clock, None,
                                  source_intervals={s: 60.0 for s in SOURCES})
        self.worker = ActionWorker(self.db, self.cfg, self.clock)

    def hour(self, h: float) -> None:
        self.clock.set(T0 + timedelta(hours=h))
        for name in self.scheduler.sources:
            # planning once: its forecasts reach two days ahead, past the day played here, and each
            # read validates ~21k rows again (a third of this test's time when read every hour)
            if name != "planning" or name not in self.scheduler.last_results:
                self.scheduler.run_once(name)
        self.alerts.evaluate(force=True)
        self.worker.run_once()

    def surge(self):
        return self.db.df("select * from alerts where rule = 'demand_surge' and entity_id = ? order by alert_id",
                          [f"{SKU}@{MARKET}"])

    def lost_in_event(self) -> int:
        world = self.sandbox.world
        return sum(u for t, s, m, u in world.lost_sales(EVENT_END) if s == SKU and m == MARKET and t >= EVENT_START)

    def close(self):
        self.db.close()
        self.sandbox.stop()


@pytest.fixture
def world(tmp_path, request):
    days = []

    def make(name: str, mode: str | None) -> MemberDay:
        d = MemberDay(tmp_path / name, mode=mode)
        days.append(d)
        return d
    yield make
    for d in days:
        d.close()


def test_b03_runs_by_itself_within_the_hour_and_member_day_loses_less(world):
    auto, baseline = world("auto", "automatic"), world("baseline", None)
    fired_at = first_sent = None
    for h in range(27):
        for day in (auto, baseline):
            day.hour(h)
        if fired_at is None and len(auto.surge()):
            fired_at = auto.surge().opened_at.min()
        sent = [a for a in log.listing(auto.db, playbook="B-03") if a.sent_at is not None]
        if first_sent is None and sent:
            first_sent = min(a.sent_at for a in sent)
    assert fired_at is not None, "the member-day surge never fired"
    assert first_sent is not None, "B-03 never sent anything"
    assert first_sent - fired_at <= timedelta(hours=1), "B-03 acted within the seeds' 1-hour target"
    assert baseline.db.df("select count(*) n from actions").n[0] == 0

    po = next(a for a in log.listing(auto.db, playbook="B-03") if a.kind == "raise_po")
    assert po.status in ("acknowledged", "done") and po.external_id
    # the supplier portal lists it, Tower ingested it and its production progress
    portal = requests.get(f"{auto.sandbox.url}/supplier-portal/v1/purchase_orders", timeout=10,
                          params={"supplier_code": po.params["supplier_id"], "updated_since": po.proposed_at.isoformat()},
                          headers={"Authorization": f"Bearer {auto.cfg.secret('supplier_portal', 'api_key')}"}).json()
    assert po.external_id in {p["po_number"] for p in portal["purchase_orders"]}
    assert auto.db.df("select count(*) n from purchase_orders where po_id = ?", [po.external_id]).n[0] == 1
    assert auto.db.df("select count(*) n from po_progress where po_id = ?", [po.external_id]).n[0] >= 1
    # the storefront promise, the coupon and the war-room message went out once each
    kinds = [a.kind for a in log.listing(auto.db, playbook="B-03")]
    assert sorted(kinds) == sorted(set(kinds)) and {"raise_po", "set_promised_ship_time", "notify"} <= set(kinds)
    chat = requests.get(f"{auto.sandbox.url}/chat/hooks/war-room/messages", timeout=10).json()
    assert sum("[B-03]" in m.get("text", "") for m in chat.get("messages", chat)) == 1
    # and the same seed without the playbook loses more of member day's bowl sales
    assert auto.lost_in_event() < baseline.lost_in_event()


def test_b03_in_approval_mode_waits_for_a_second_person(world):
    day = world("approval", "approval")
    for h in range(9):
        day.hour(h)
    surge = day.surge()
    assert len(surge), "the member-day surge fired"
    assert log.listing(day.db, playbook="B-03") == [], "approval mode never acts by itself"
    alert_id = int(surge.alert_id.iloc[0])
    with pytest.raises(Refused):
        runner.run(day.db, day.cfg, "B-03", alert_id, Identity("v", "Viewer", frozenset({"viewer"})), now=day.clock.now())
    proposed = runner.run(day.db, day.cfg, "B-03", alert_id, OPERATOR, now=day.clock.now())
    assert proposed and all(a.status == "proposed" for a in proposed)
    assert runner.run(day.db, day.cfg, "B-03", alert_id, OPERATOR, now=day.clock.now())[0].action_id == proposed[0].action_id
    po = next(a for a in proposed if a.kind == "raise_po")
    with pytest.raises(Refused):   # the proposer cannot approve their own
        engine.approve(day.db, day.cfg, OPERATOR, po.action_id, now=day.clock.now())
    engine.approve(day.db, day.cfg, APPROVER, po.action_id, now=day.clock.now(), comment="go")
    sent = engine.execute(day.db, day.cfg, OPERATOR, po.action_id, now=day.clock.now())
    assert sent.status in ("sent", "acknowledged") and sent.external_id
    day.hour(14)
    assert log.get(day.db, po.action_id).status in ("acknowledged", "done")
