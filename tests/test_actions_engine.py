"""The action engine never doubles an order (issue 13 item 3): one key → one row under double clicks
and racing threads or replicas; roles checked on the server; retries with backoff; the vendor's
refusal shown in its words; a manual procedure when the API is down; and after a kill -9 at any step
of an execution, restart + recover ends with exactly one effect at the vendor per key.

Real DuckDB files, real HTTP to a loopback vendor (tests/action_vendor.py) that deduplicates on the
Idempotency-Key header like a real vendor API; the crash tests SIGKILL a real child process."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_vendor import CapClient, NotifyClient, Vendor, config_for
from connectors.actions import registry
from connectors.actions.base import Sent
from tower.actions import cli, engine, kinds, log
from tower.actions.engine import ActionInvalid
from tower.auth.policy import Identity, Refused
from tower.db import Database

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 7, 1, 10, tzinfo=timezone.utc)
VIEWER = Identity("viewer-1", "Vic Viewer", frozenset({"viewer"}))
OPERATOR = Identity("op-1", "Olga Operator", frozenset({"operator"}))
APPROVER = Identity("appr-1", "Ann Approver", frozenset({"approver"}))
APPROVER_2 = Identity("appr-2", "Bo Approver", frozenset({"approver"}))
NOTE = {"channel": "#war-room", "text": "B-03: quick-response PO raised, 1-hour response started"}


def seed(db: Database) -> None:
    """The reference data validation checks against (what the planning sheet and portal would sync)."""
    with db.cursor() as cur:
        cur.execute("insert into skus (sku, name, unit_cost, currency) values "
                    "('LAMP-01', 'Desk lamp', 12.50, 'USD')")
        cur.execute("insert into suppliers (supplier_id, name, tier, capacity_per_day) values "
                    "('BACKUP-SZ', 'Backup factory', 'backup', 500)")
        cur.execute("insert into warehouses (warehouse_id, name, kind) values ('WH-US', 'US', 'domestic'), "
                    "('WH-EU', 'EU', 'overseas')")
        cur.execute("insert into merchants (merchant_id, name) values ('green-living', 'Green Living')")


@pytest.fixture
def vendor():
    v = Vendor()
    yield v
    v.stop()


@pytest.fixture
def world(tmp_path, vendor, monkeypatch):
    """A migrated Tower database with reference data, and `notify` wired to the loopback vendor."""
    cfg = config_for(tmp_path / "tower.duckdb")
    db = Database(cfg.db_path)
    seed(db)
    monkeypatch.setitem(registry.FACTORIES, "notify", lambda _cfg: NotifyClient(vendor.url))
    yield db, cfg
    db.close()   # closing twice is harmless


def count(db, table: str) -> int:
    return db.df(f"select count(*) as n from {table}").n[0]


def statuses(db, action_id: int) -> list[str]:
    return [t["to_status"] for t in log.transitions(db, action_id)]


# ── one key, one row ────────────────────────────────────────────────────────────────────────────
def test_a_double_click_and_racing_threads_make_one_action(world):
    db, cfg = world
    first = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW, playbook="B-03", alert_id=42, step=1)
    again = engine.propose(db, cfg, OPERATOR, "notify", dict(NOTE), now=NOW, playbook="B-03", alert_id=42, step=1)
    assert again.action_id == first.action_id

    other = {**NOTE, "text": "second intent"}
    got, errors, start = [], [], threading.Barrier(8)

    def click():
        start.wait()
        try:
            got.append(engine.propose(db, cfg, OPERATOR, "notify", other, now=NOW, playbook="B-03", alert_id=42,
                                      step=2).action_id)
        except Exception as e:  # noqa: BLE001 - any error is the failure this test looks for
            errors.append(e)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(got)) == 1 and len(got) == 8
    assert count(db, "actions") == 2
    assert db.df("select count(*) as n from audit_log where action = 'action.propose'").n[0] == 2
    assert [a.step for a in log.listing(db, playbook="B-03", alert_id=42, statuses=["proposed"])] == [2, 1]
    assert log.listing(db, playbook="B-04") == [] and log.listing(db, since=NOW + timedelta(seconds=1)) == []
    assert log.by_key(db, first.idempotency_key) == first


def test_racing_executes_send_once(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    start = threading.Barrier(6)

    def click():
        start.wait()
        engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)   # and once more, later
    assert len(vendor.requests) == 1
    assert log.get(db, action.action_id).status == "acknowledged"
    assert statuses(db, action.action_id) == ["proposed", "sending", "acknowledged"]


def test_two_replicas_proposing_the_same_intent_share_one_row(tmp_path, vendor):
    """Two Tower processes (DuckDB lets one write at a time: the second waits for the file)."""
    path = tmp_path / "tower.duckdb"
    Database(path).close()
    children = [subprocess.Popen([sys.executable, str(HERE / "action_child.py"), str(path), vendor.url,
                                  "propose", "#war-room", "same intent"], stdout=subprocess.PIPE, text=True)
                for _ in range(2)]
    ids = [c.communicate(timeout=120)[0].strip() for c in children]
    assert all(c.returncode == 0 for c in children) and ids[0] == ids[1] != ""
    db = Database(path)
    try:
        assert count(db, "actions") == 1
    finally:
        db.close()


# ── roles ───────────────────────────────────────────────────────────────────────────────────────
def test_refused_roles_change_nothing(world, vendor):
    db, cfg = world
    with pytest.raises(Refused, match="operator"):
        engine.propose(db, cfg, VIEWER, "notify", NOTE, now=NOW)
    assert count(db, "actions") == 0

    action = engine.propose(db, cfg, APPROVER, "notify", NOTE, now=NOW, mode="approval")
    with pytest.raises(Refused, match="approval"):
        engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    with pytest.raises(Refused, match="four eyes"):
        engine.approve(db, cfg, APPROVER, action.action_id, now=NOW)
    with pytest.raises(Refused, match="approver"):
        engine.approve(db, cfg, OPERATOR, action.action_id, now=NOW)
    with pytest.raises(Refused):
        engine.execute(db, cfg, VIEWER, action.action_id, now=NOW)
    assert log.get(db, action.action_id).status == "proposed" and vendor.requests == []
    assert statuses(db, action.action_id) == ["proposed"]

    approved = engine.approve(db, cfg, APPROVER_2, action.action_id, now=NOW, comment="ok, within budget")
    assert (approved.status, approved.decided_by) == ("approved", "appr-2")
    assert engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW).status == "acknowledged"
    audit = db.df("select action from audit_log order by audit_id").action.tolist()
    assert audit == ["action.propose", "approval.request", "action.approve", "action.execute",
                     "action.acknowledged"]


def test_reject_needs_a_comment_and_stops_the_action(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW, mode="approval")
    with pytest.raises(ActionInvalid, match="comment"):
        engine.reject(db, APPROVER, action.action_id, now=NOW, comment="  ")
    rejected = engine.reject(db, APPROVER, action.action_id, now=NOW, comment="wrong channel")
    assert (rejected.status, rejected.decision_comment) == ("rejected", "wrong channel")
    with pytest.raises(ActionInvalid, match="rejected"):
        engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert vendor.requests == []


# ── what the vendor answers ─────────────────────────────────────────────────────────────────────
def test_two_5xx_then_200_is_one_send_after_three_attempts(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    vendor.script = ["500", "500"]
    done = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert (done.status, done.attempts, done.external_id) == ("acknowledged", 3, "msg-1")
    assert list(vendor.effects) == [("/notify", action.idempotency_key)]
    assert {r["key"] for r in vendor.requests} == {action.idempotency_key}
    assert statuses(db, action.action_id) == ["proposed", "sending", "acknowledged"]


def test_retries_follow_the_config_and_honour_retry_after(tmp_path, vendor, monkeypatch):
    cfg = config_for(tmp_path / "tower.duckdb", engine={"max_attempts": 5, "backoff_s": 0.01, "max_backoff_s": 2})
    monkeypatch.setitem(registry.FACTORIES, "notify", lambda _cfg: NotifyClient(vendor.url))
    db = Database(cfg.db_path)
    try:
        action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
        vendor.script, vendor.retry_after = ["500", "500", "500", "429"], "0.4"
        started = time.monotonic()
        done = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
        assert time.monotonic() - started >= 0.4            # waited as long as the vendor asked
        assert (done.status, done.attempts) == ("acknowledged", 5)
    finally:
        db.close()


def test_a_4xx_fails_with_the_vendors_words(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    vendor.script = ["400"]
    failed = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert failed.status == "failed" and "channel '#war-room' is archived" in failed.last_error
    assert len(vendor.requests) == 1        # a refusal is not retried
    with pytest.raises(ActionInvalid, match="failed"):   # a new attempt is a new proposal
        engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert len(vendor.requests) == 1


def test_endpoint_down_falls_back_to_a_manual_procedure(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    vendor.script = ["timeout", "500", "429"]
    manual = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert manual.status == "manual" and manual.attempts == 3 and "429" in manual.last_error
    document = Path(manual.manual_document)
    assert document.parent == cfg.data_dir / "actions"
    rows = dict(csv.reader(document.open(encoding="utf-8")))
    assert rows["reference"] == action.idempotency_key and rows["text"] == NOTE["text"]
    assert "by hand" in manual.manual_message and "手动" in manual.manual_message
    # executing again sends nothing; a person confirms it was done
    assert engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW).status == "manual"
    assert len(vendor.requests) == 3
    confirmed = engine.confirm_manual(db, OPERATOR, action.action_id, now=NOW, external_id="posted-by-hand")
    assert (confirmed.status, confirmed.external_id) == ("acknowledged", "posted-by-hand")


def test_a_raise_po_when_the_portal_is_down_writes_the_po_document(world, monkeypatch):
    db, cfg = world
    monkeypatch.setitem(registry.FACTORIES, "raise_po", lambda _cfg: DownPortal())
    params = {"supplier_id": "BACKUP-SZ", "sku": "LAMP-01", "warehouse_id": "WH-US", "quantity": 400,
              "need_by": "2026-07-04"}
    action = engine.propose(db, cfg, OPERATOR, "raise_po", params, now=NOW, playbook="B-03", alert_id=7, step=1)
    assert action.estimated_cost == pytest.approx(400 * 12.50)
    manual = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert manual.status == "manual"
    row = next(csv.DictReader(Path(manual.manual_document).open(encoding="utf-8")))
    assert (row["supplier_id"], row["sku"], row["quantity"], row["ship_to_warehouse"], row["need_by"]) == \
        ("BACKUP-SZ", "LAMP-01", "400", "WH-US", "2026-07-04")
    assert "400 units of LAMP-01" in manual.manual_message and "快速反应采购订单" in manual.manual_message


class DownPortal:
    """A supplier portal whose address answers nothing (a closed loopback port)."""
    kind = "raise_po"

    def __init__(self):
        self.client = NotifyClient("http://127.0.0.1:9")

    def preview(self, params, key):
        return {"method": "POST", "url": "http://127.0.0.1:9/orders", "body": params}

    def send(self, params, key):
        return self.client.send({"channel": "po", "text": str(params)}, key)

    def compensate(self, params, external_id, key):
        return None


# ── confirmations ───────────────────────────────────────────────────────────────────────────────
def test_a_sent_action_whose_confirmation_never_comes_fails_visibly(world, vendor):
    db, cfg = world
    vendor.acknowledge = False
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    assert engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW).status == "sent"
    assert engine.reconcile(db, cfg, NOW + timedelta(hours=5)) == 0
    assert engine.reconcile(db, cfg, NOW + timedelta(hours=7)) == 1
    failed = log.get(db, action.action_id)
    assert failed.status == "failed" and "confirmation never came" in failed.last_error


def test_a_sent_po_is_acknowledged_then_done_as_the_portal_reports_it(world, monkeypatch):
    db, cfg = world
    monkeypatch.setitem(registry.FACTORIES, "raise_po", lambda _cfg: AcceptingPortal())
    params = {"supplier_id": "BACKUP-SZ", "sku": "LAMP-01", "warehouse_id": "WH-US", "quantity": 10}
    action = engine.propose(db, cfg, OPERATOR, "raise_po", params, now=NOW)
    assert engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW).status == "sent"
    with db.cursor() as cur:
        cur.execute("insert into purchase_orders (po_id, supplier_id, sku, quantity_ordered, status) "
                    "values ('PO-QR-1', 'BACKUP-SZ', 'LAMP-01', 10, 'in_production')")
    engine.reconcile(db, cfg, NOW + timedelta(hours=1))
    assert log.get(db, action.action_id).status == "acknowledged"
    with db.cursor() as cur:
        cur.execute("insert into po_progress (po_id, observed_at, quantity_shipped, status) "
                    "values ('PO-QR-1', '2026-07-02 10:00+00', 10, 'shipped')")
    engine.reconcile(db, cfg, NOW + timedelta(hours=30))
    assert statuses(db, action.action_id) == ["proposed", "sending", "sent", "acknowledged", "done"]


def test_a_po_the_supplier_cancels_fails_visibly(world, monkeypatch):
    db, cfg = world
    monkeypatch.setitem(registry.FACTORIES, "raise_po", lambda _cfg: AcceptingPortal())
    params = {"supplier_id": "BACKUP-SZ", "sku": "LAMP-01", "warehouse_id": "WH-US", "quantity": 10}
    action = engine.propose(db, cfg, OPERATOR, "raise_po", params, now=NOW)
    engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    with db.cursor() as cur:
        cur.execute("insert into purchase_orders (po_id, supplier_id, sku, quantity_ordered, status) "
                    "values ('PO-QR-1', 'BACKUP-SZ', 'LAMP-01', 10, 'cancelled')")
    assert engine.reconcile(db, cfg, NOW + timedelta(hours=1)) == 1
    failed = log.get(db, action.action_id)
    assert failed.status == "failed" and "cancelled PO PO-QR-1" in failed.last_error


class AcceptingPortal:
    kind = "raise_po"

    def preview(self, params, key):
        return {"method": "POST", "url": "portal/orders", "body": params}

    def send(self, params, key):
        return Sent(external_id="PO-QR-1", request=self.preview(params, key))

    def compensate(self, params, external_id, key):
        return None


def test_automatic_runs_act_as_an_operator_named_after_the_playbook(world, vendor):
    db, cfg = world
    robot = engine.AUTOMATIC("B-03")
    action = engine.propose(db, cfg, robot, "notify", NOTE, now=NOW, mode="automatic", playbook="B-03")
    assert action.proposed_by == "automatic:B-03"
    assert engine.execute(db, cfg, robot, action.action_id, now=NOW).status == "acknowledged"
    with pytest.raises(Refused):
        engine.approve(db, cfg, robot, action.action_id, now=NOW)
    # a message's reply is its effect: the reconciler closes it, once
    assert engine.reconcile(db, cfg, NOW + timedelta(minutes=5)) == 1
    assert engine.reconcile(db, cfg, NOW + timedelta(minutes=10)) == 0
    assert log.get(db, action.action_id).status == "done"
    assert log.transitions(db, action.action_id)[-1]["actor"] == "reconciler"
    assert log.listing(db, statuses=log.IN_FLIGHT) == []


# ── undo ────────────────────────────────────────────────────────────────────────────────────────
def test_revert_cancels_an_unsent_action_and_refuses_a_delivered_message(world, vendor):
    db, cfg = world
    unsent = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    assert engine.revert(db, cfg, OPERATOR, unsent.action_id, now=NOW).status == "cancelled"
    sent = engine.propose(db, cfg, OPERATOR, "notify", {**NOTE, "text": "other"}, now=NOW)
    engine.execute(db, cfg, OPERATOR, sent.action_id, now=NOW)
    with pytest.raises(ActionInvalid, match="cannot be undone"):
        engine.revert(db, cfg, OPERATOR, sent.action_id, now=NOW)
    assert log.get(db, sent.action_id).status == "acknowledged"


CAP = {"shop": "green-living", "sku": "LAMP-01", "max_units_per_order": 2}


def test_revert_undoes_through_the_vendor(world, vendor, monkeypatch):
    db, cfg = world
    monkeypatch.setitem(registry.FACTORIES, "cap_promotion", lambda _cfg: CapClient(vendor.url))
    action = engine.propose(db, cfg, OPERATOR, "cap_promotion", CAP, now=NOW)
    sent = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert sent.status == "acknowledged"
    reverted = engine.revert(db, cfg, OPERATOR, action.action_id, now=NOW + timedelta(hours=1))
    assert reverted.status == "reverted"
    assert [r["path"] for r in vendor.requests] == ["/caps", f"/caps/{sent.external_id}/undo"]
    assert statuses(db, action.action_id) == ["proposed", "sending", "acknowledged", "reverting", "reverted"]
    assert engine.revert(db, cfg, OPERATOR, action.action_id, now=NOW).status == "reverted"   # once
    assert len(vendor.requests) == 2


def test_a_refused_revert_leaves_the_action_as_it_was_with_the_reason(world, vendor, monkeypatch):
    db, cfg = world
    monkeypatch.setitem(registry.FACTORIES, "cap_promotion", lambda _cfg: CapClient(vendor.url))
    action = engine.propose(db, cfg, OPERATOR, "cap_promotion", CAP, now=NOW)
    engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    vendor.script = ["400"]
    with pytest.raises(ActionInvalid, match="archived"):
        engine.revert(db, cfg, OPERATOR, action.action_id, now=NOW)
    after = log.get(db, action.action_id)
    assert after.status == "acknowledged" and "archived" in after.last_error


def test_the_dry_run_shows_the_exact_request_and_sends_nothing(world, vendor):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    request = engine.preview(cfg, action)
    assert request == {"method": "POST", "url": f"{vendor.url}/notify",
                       "headers": {"Idempotency-Key": action.idempotency_key}, "body": NOTE}
    assert vendor.requests == [] and statuses(db, action.action_id) == ["proposed"]
    executed = engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    assert executed.request == request and vendor.requests[0]["body"] == NOTE


# ── kill -9 at every step ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("die_at", ["before_claim", "after_claim", "in_backoff", "after_http", "after_status"])
def test_kill_9_at_any_step_then_recover_sends_exactly_once(tmp_path, vendor, monkeypatch, die_at):
    cfg = config_for(tmp_path / "tower.duckdb")
    db = Database(cfg.db_path)
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW)
    db.close()
    if die_at == "in_backoff":
        vendor.script = ["500"]     # the first try fails; the child dies before its retry

    child = subprocess.run([sys.executable, str(HERE / "action_child.py"), str(cfg.db_path), vendor.url,
                            "execute", str(action.action_id), die_at], timeout=120)
    assert child.returncode == -9, "the child process was meant to be killed with SIGKILL"

    # restart: recover what the crash left, then a person (or the runner) executes again
    monkeypatch.setitem(registry.FACTORIES, "notify", lambda _cfg: NotifyClient(vendor.url))
    db = Database(cfg.db_path)
    try:
        engine.recover(db, cfg, NOW + timedelta(minutes=1))
        engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW + timedelta(minutes=1))
        engine.recover(db, cfg, NOW + timedelta(minutes=2))   # a second restart changes nothing
        final = log.get(db, action.action_id)
        history = statuses(db, action.action_id)
    finally:
        db.close()
    assert list(vendor.effects) == [("/notify", action.idempotency_key)]   # one message at the vendor
    # resent once after the crash when the first request had reached the vendor (deduplicated)
    assert len(vendor.requests) == (2 if die_at in ("after_http", "in_backoff") else 1)
    assert final.status == "acknowledged" and final.external_id == "msg-1"
    assert history[0] == "proposed" and history[-1] == "acknowledged"
    assert history.count("acknowledged") == 1 and set(history) <= {"proposed", "sending", "acknowledged"}


# ── bad input ───────────────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    cfg = config_for(tmp_path_factory.mktemp("bad_input") / "tower.duckdb")
    db = Database(cfg.db_path)
    seed(db)
    yield db, cfg
    db.close()


BAD_PO = st.one_of(
    st.fixed_dictionaries({"quantity": st.one_of(st.integers(max_value=0),
                                                 st.integers(min_value=kinds.MAX_QUANTITY + 1))}),
    st.fixed_dictionaries({"sku": st.text(min_size=1, max_size=12).filter(lambda s: s != "LAMP-01")}),
    st.fixed_dictionaries({"supplier_id": st.text(min_size=1).filter(lambda s: s != "BACKUP-SZ")}),
    st.fixed_dictionaries({"warehouse_id": st.sampled_from(["", "WH-XX", "wh-us"])}),
    st.fixed_dictionaries({"quantity": st.sampled_from(["ten", 1.5, None])}),
    st.fixed_dictionaries({"need_by": st.dates(max_value=date(2026, 6, 30))}),
    st.fixed_dictionaries({"unit_price": st.floats()}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=BAD_PO)
def test_bad_params_are_refused_naming_the_field_and_nothing_is_written(seeded, bad):
    db, cfg = seeded
    params = {"supplier_id": "BACKUP-SZ", "sku": "LAMP-01", "warehouse_id": "WH-US", "quantity": 100, **bad}
    before = (count(db, "actions"), count(db, "action_transitions"), count(db, "audit_log"))
    with pytest.raises(ActionInvalid) as refused:
        engine.propose(db, cfg, OPERATOR, "raise_po", params, now=NOW)
    assert next(iter(bad)) in str(refused.value)
    assert (count(db, "actions"), count(db, "action_transitions"), count(db, "audit_log")) == before


@pytest.mark.parametrize("kind, params, field", [
    ("transfer_stock", {"sku": "LAMP-01", "from_warehouse": "WH-US", "to_warehouse": "WH-US", "quantity": 5},
     "to_warehouse"),
    ("set_promised_ship_time", {"shop": "green-living", "sku": "LAMP-01", "min_days": 7, "max_days": 5},
     "max_days"),
    ("create_discount", {"shop": "green-living", "code": "sorry 10", "percent": 10, "customer_emails": ["a@b.co"],
                         "ends_at": "2026-07-08T00:00:00Z", "message_en": "Sorry", "message_zh": "抱歉"}, "code"),
    ("create_discount", {"shop": "green-living", "code": "SORRY-10", "percent": 80, "customer_emails": ["a@b.co"],
                         "ends_at": "2026-07-08T00:00:00Z", "message_en": "Sorry", "message_zh": "抱歉"}, "percent"),
    ("cap_promotion", {"shop": "no-such-shop", "sku": "LAMP-01", "max_units_per_order": 2}, "shop"),
    ("book_freight", {"mode": "rocket", "origin_supplier_id": "BACKUP-SZ", "warehouse_id": "WH-US",
                      "sku": "LAMP-01", "quantity": 5}, "mode"),
    ("teleport", {}, "kind"),
])
def test_each_kind_refuses_its_bad_input(seeded, kind, params, field):
    db, cfg = seeded
    with pytest.raises(ActionInvalid, match=field):
        engine.propose(db, cfg, OPERATOR, kind, params, now=NOW)


def test_freight_is_costed_from_config(seeded):
    db, cfg = seeded
    params = {"mode": "air", "origin_supplier_id": "BACKUP-SZ", "warehouse_id": "WH-US", "sku": "LAMP-01",
              "quantity": 100}
    model = kinds.validate(db, "book_freight", params, NOW)
    assert kinds.estimate_cost(db, "book_freight", model, config_for(cfg.db_path, costs={"air_per_unit": 3})) == 300
    assert kinds.estimate_cost(db, "book_freight", model.model_copy(update={"mode": "sea"}), cfg) == 60


def test_the_log_command_prints_every_action_with_its_history(world, vendor, capsys):
    db, cfg = world
    action = engine.propose(db, cfg, OPERATOR, "notify", NOTE, now=NOW, playbook="B-03")
    engine.execute(db, cfg, OPERATOR, action.action_id, now=NOW)
    db.close()
    assert cli.main(["log", "--db", str(cfg.db_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(a["action_id"], a["status"], a["playbook"]) for a in printed] == [(1, "acknowledged", "B-03")]
    assert [t["to_status"] for t in printed[0]["transitions"]] == ["proposed", "sending", "acknowledged"]
    assert cli.main(["log", "--db", str(cfg.db_path)]) == 0
    assert "acknowledged" in capsys.readouterr().out
