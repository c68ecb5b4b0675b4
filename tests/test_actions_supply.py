"""The supply side of Tower's actions (issue 13) over real HTTP on loopback: quick-response POs
through the supplier portal (one PO per idempotency key, capacity, cancellation), forwarder
bookings that reroute a PO, warehouse transfers, and how failures reach the engine (refused vs
unavailable). The sandbox world reacts: the PO is acknowledged, produced, shipped and ingested by
Tower's own supplier-portal connector into a real DuckDB file."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.actions.base import ActionRefused, ActionUnavailable
from connectors.actions.registry import client_for
from connectors.scheduler import Scheduler
from connectors.testing import sources_for, write_config
from queries import dynamic
from sandbox.server import start
from sandbox.world import World
from tower.clock import ManualClock
from tower.config import SANDBOX_TOKEN, SandboxConfig
from tower.db import Database

T0 = datetime(2026, 11, 20, 9, 7, 13, tzinfo=UTC)
BEARER = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
QUICK = {"supplier_id": "CN-ANJI-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity": 120,
         "need_by": None, "quick_response": True}
PORTAL = "/supplier-portal/v1"


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def server(clock):
    srv = start(SandboxConfig(port=0, seed=7, history_days=1, scenarios=()), clock)
    yield srv
    srv.stop()


@pytest.fixture
def cfg(server, tmp_path):
    return write_config(tmp_path, server.url, sources={"supplier_portal": sources_for()["supplier_portal"]})


def portal_pos(server, clock) -> dict[str, dict]:
    r = requests.get(f"{server.url}{PORTAL}/purchase_orders", params={"page_size": 500}, headers=BEARER,
                     timeout=10)
    assert r.status_code == 200
    return {p["po_number"]: p for p in r.json()["purchase_orders"]}


def fault(server, prefix: str, kind: str, **extra) -> None:
    r = requests.post(f"{server.url}/_sandbox/faults", json={"path_prefix": prefix, "kind": kind, **extra},
                      timeout=5)
    assert r.status_code == 201


def quick_free(server) -> int:
    r = requests.get(f"{server.url}{PORTAL}/capacity", params={"supplier_code": "CN-ANJI-02"}, headers=BEARER,
                     timeout=10)
    assert r.status_code == 200
    return r.json()["suppliers"][0]["quick_response_free_per_day"]


def test_one_key_makes_one_po_that_the_portal_acknowledges_and_tower_ingests(server, clock, cfg):
    client = client_for("raise_po", cfg)
    preview = client.preview(QUICK, "b03-run-1")
    assert preview["method"] == "POST" and preview["url"].endswith("/supplier-portal/v1/purchase_orders")
    assert preview["body"]["quantity"] == 120 and preview["body"]["quick_response"] is True
    assert SANDBOX_TOKEN not in str(preview["body"]) and "Authorization" not in str(preview)

    first = client.send(QUICK, "b03-run-1")
    again = client.send(QUICK, "b03-run-1")                 # a retry, a double click, a second replica
    assert first.external_id == again.external_id and first.external_id.startswith("PO-")
    assert again.detail["replayed"] is True and first.detail["replayed"] is False
    assert first.detail["status"] == "submitted" and first.cost == pytest.approx(120 * 4.1 * 1.15, rel=0.05)
    po = first.external_id

    assert po not in portal_pos(server, clock)              # not acknowledged before the supplier reports
    clock.advance(hours=7)                                  # the backup reports every 6 h
    listed = [p for p in portal_pos(server, clock) if p.startswith("PO-2026-A")]
    assert listed == [po]
    assert portal_pos(server, clock)[po]["quantity_ordered"] == 120

    db = Database.for_config(cfg)
    try:
        scheduler = Scheduler(db, cfg, clock)
        assert scheduler.run_once("supplier_portal").status != "failed"
        clock.advance(hours=30)                             # produced within a day, then QC and handover
        assert scheduler.run_once("supplier_portal").status != "failed"
        rows = db.df(dynamic.all_rows("purchase_orders", ("po_id",)))
        mine = rows[rows.po_id == po]
        assert len(mine) == 1 and mine.supplier_id.iloc[0] == "CN-ANJI-02"
        assert int(mine.quantity_ordered.iloc[0]) == 120 and mine.warehouse_id.iloc[0] == "US-WEST-LA"
        progress = db.df(dynamic.all_rows("po_progress", ("po_id", "observed_at")))
        statuses = list(progress[progress.po_id == po].status)
        assert statuses[0] == "open" and statuses[-1] in ("in_production", "shipped")
    finally:
        db.close()


def test_capacity_refusal_says_how_much_is_free(server, cfg):
    client = client_for("raise_po", cfg)
    free = quick_free(server)
    assert 0 < free <= 270
    with pytest.raises(ActionRefused) as refused:
        client.send({**QUICK, "quantity": free + 1}, "too-much")
    assert refused.value.status == 409
    assert f"at most {free} more units" in str(refused.value) and "CN-ANJI-02" in str(refused.value)
    assert refused.value.response["errors"][0]["free_capacity"] == free
    ok = client.send({**QUICK, "quantity": free}, "just-enough")          # the refusal was not remembered
    assert ok.external_id and quick_free(server) == 0


@pytest.mark.parametrize("change, field", [
    ({"supplier_code": "CN-NOPE-99"}, "supplier_code"),
    ({"sku": "GL-NOTHING"}, "sku"),
    ({"warehouse_id": "MARS-1"}, "warehouse_id"),
    ({"supplier_code": "PRINT3D-LA", "warehouse_id": "EU-3PL-DE", "quick_response": False}, "warehouse_id"),
    ({"quantity": "ten"}, "quantity"),
    ({"quantity": 2_000_000}, "quantity"),
    ({"need_by": "next week"}, "need_by"),
    ({"need_by": "2020-01-01"}, "need_by"),
    ({"supplier_code": "VN-BAMBOO-01"}, "quick_response"),
    ({"quick_response": "yes"}, "quick_response"),
])
def test_bad_bodies_are_422_naming_the_field(server, change, field):
    body = {"supplier_code": "CN-ANJI-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity": 10,
            "need_by": None, "reference": "t", "quick_response": True, **change}
    r = requests.post(f"{server.url}{PORTAL}/purchase_orders", json=body,
                      headers={**BEARER, "Idempotency-Key": "k"}, timeout=10)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field and r.json()["errors"][0]["message"]


def test_missing_key_wrong_token_and_key_reuse_are_refused(server, cfg):
    body = {"supplier_code": "CN-ANJI-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity": 10,
            "need_by": None, "reference": "t", "quick_response": False}
    url = f"{server.url}{PORTAL}/purchase_orders"
    r = requests.post(url, json=body, headers=BEARER, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert requests.post(url, json=body, headers={"Idempotency-Key": "a"}, timeout=10).status_code == 401
    assert requests.post(url, json=body, headers={**BEARER, "Idempotency-Key": "a"}, timeout=10).status_code == 201
    r = requests.post(url, json={**body, "quantity": 11}, headers={**BEARER, "Idempotency-Key": "a"}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    with pytest.raises(ActionRefused, match="supplier_code: unknown supplier"):
        client_for("raise_po", cfg).send({**QUICK, "supplier_id": "CN-NOPE-99"}, "k2")


def test_cancel_works_before_shipping_and_is_refused_after(server, clock, cfg):
    client = client_for("raise_po", cfg)
    early = client.send({**QUICK, "quantity": 60}, "cancel-me").external_id
    late = client.send({**QUICK, "quantity": 60}, "ship-me").external_id
    undone = client.compensate(QUICK, early, "cancel-me:undo")
    assert undone.detail["status"] == "cancelled"
    assert client.compensate(QUICK, early, "cancel-me:undo").detail["status"] == "cancelled"   # again: same
    clock.advance(hours=7)
    assert portal_pos(server, clock)[early]["status"] == "cancelled"
    for _ in range(12):                                     # until the supplier hands it to freight
        clock.advance(hours=6)
        if portal_pos(server, clock)[late]["status"] == "shipped":
            break
    assert portal_pos(server, clock)[late]["status"] == "shipped"
    with pytest.raises(ActionRefused, match="already shipped") as refused:
        client.compensate(QUICK, late, "ship-me:undo")
    assert refused.value.status == 409


def test_air_booking_on_a_po_lands_days_before_sea(server, clock, cfg):
    po_client, freight = client_for("raise_po", cfg), client_for("book_freight", cfg)
    by_air = po_client.send({**QUICK, "quantity": 80}, "air-po").external_id
    by_sea = po_client.send({**QUICK, "quantity": 80}, "sea-po").external_id
    booking = {"origin_supplier_id": "CN-ANJI-02", "warehouse_id": "US-WEST-LA", "sku": "GL-BOWL-01",
               "quantity": 80}
    air = freight.send({**booking, "mode": "air", "po_number": by_air}, "air-booking")
    sea = freight.send({**booking, "mode": "sea", "po_number": by_sea}, "sea-booking")
    assert air.acknowledged and air.detail["route"] == ["CNPVG", "USLAX"] and "CNYTN" in sea.detail["route"]
    assert air.cost < 500 + 80 * 2 and sea.cost < air.cost
    assert air.eta < sea.eta - timedelta(days=10)
    with pytest.raises(ActionRefused, match="already booked"):
        freight.send({**booking, "mode": "sea", "po_number": by_air}, "double-booking")
    for _ in range(20):
        clock.advance(hours=6)
        if freight.status(air.external_id).detail["status"] == "delivered":
            break
    landed = clock.now()
    assert freight.status(air.external_id).detail["status"] == "delivered"
    assert landed - T0 < timedelta(days=4.5)                # quick response + express air
    assert freight.status(sea.external_id).detail["status"] == "in_transit"
    clock.advance(hours=7)                                  # the supplier's next report closes it
    pos = portal_pos(server, clock)
    assert pos[by_air]["status"] == "closed" and pos[by_sea]["status"] == "shipped"
    with pytest.raises(ActionRefused, match="departed"):
        freight.compensate({}, sea.external_id, "undo")
    trackings = server.world.trackings(clock.now())
    assert {t.mode for t in trackings if t.po_number == by_air} == {"air"}
    assert {t.mode for t in trackings if t.po_number == by_sea} == {"sea"}


def test_transfer_moves_stock_out_now_and_in_at_its_eta(server, clock, cfg):
    twin = World(7, ManualClock(T0), 1, [])                # the same world, nobody writes to it
    client = client_for("transfer_stock", cfg)
    params = {"sku": "GL-TRAY-01", "from_warehouse": "US-WEST-LA", "to_warehouse": "US-EAST-NJ", "quantity": 25}
    sent = client.send(params, "move-25")
    assert client.send(params, "move-25").external_id == sent.external_id      # one transfer per key
    assert sent.acknowledged and sent.eta > T0 and client.compensate(params, sent.external_id, "x") is None

    def stock(world, at):
        return {i.location_id: i.available for i in world.inventory_levels(at) if i.sku == "GL-TRAY-01"}

    loc = {w.warehouse_id: w.location_id for w in twin.warehouses}
    soon = T0 + timedelta(hours=1)
    moved, same = stock(server.world, soon), stock(twin, soon)
    assert moved[loc["US-WEST-LA"]] == same[loc["US-WEST-LA"]] - 25
    assert moved[loc["US-EAST-NJ"]] == same[loc["US-EAST-NJ"]]
    for _ in range(40):                                     # a truck across the US: about three days
        clock.advance(hours=3)
        if client.status(sent.external_id).detail["status"] == "received":
            break
    after = clock.now()
    assert client.status(sent.external_id).detail["status"] == "received"
    moved, same = stock(server.world, after), stock(twin, after)
    assert moved[loc["US-EAST-NJ"]] == same[loc["US-EAST-NJ"]] + 25
    number = sent.response["transfer"]["tracking_number"]
    (shipment,) = [t for t in server.world.trackings(after) if t.tracking_number == number]
    assert (shipment.direction, shipment.mode, shipment.warehouse_id, shipment.tag) == \
        ("inbound", "truck", "US-EAST-NJ", "Delivered")
    with pytest.raises(ActionRefused, match="insufficient|holds") as refused:
        client.send({**params, "quantity": 99_999}, "too-many")
    assert refused.value.status == 409 and refused.value.response["errors"][0]["available"] >= 0


def test_vendor_failures_are_unavailable_and_a_timed_out_po_is_not_raised_twice(server, cfg):
    client = client_for("raise_po", cfg)
    fault(server, f"{PORTAL}/purchase_orders", "503")
    with pytest.raises(ActionUnavailable) as down:
        client.send(QUICK, "flaky")
    assert down.value.status == 503 and down.value.retry_after_s == 1
    fault(server, f"{PORTAL}/purchase_orders", "429")
    with pytest.raises(ActionUnavailable) as slow:
        client.send(QUICK, "flaky")
    assert slow.value.status == 429
    fault(server, "/forwarder/v1/bookings", "500")
    with pytest.raises(ActionUnavailable):
        client_for("book_freight", cfg).send({"mode": "air", "origin_supplier_id": "CN-ANJI-02",
                                              "warehouse_id": "US-WEST-LA", "sku": "GL-BOWL-01",
                                              "quantity": 5}, "b")
    # The supplier is slow: Tower gives up (read timeout 2 s) but the portal still makes the PO.
    fault(server, f"{PORTAL}/purchase_orders", "timeout", delay_s=2.5)
    with pytest.raises(ActionUnavailable, match="timed out"):
        client.send(QUICK, "slow")
    time.sleep(2.0)                                         # the portal finishes the first request meanwhile
    retried = client.send(QUICK, "slow")                     # the engine's retry: the same key
    assert retried.detail["replayed"] is True
    assert client.send(QUICK, "flaky").external_id != retried.external_id
    assert sorted(server.world.raised_po(n)["reference"] for n in ("PO-2026-A0001", "PO-2026-A0002")) == \
        ["tower:flaky", "tower:slow"]
    with pytest.raises(KeyError):
        server.world.raised_po("PO-2026-A0003")


def test_no_out_of_range_quantity_ever_makes_a_po(server):
    url = f"{server.url}{PORTAL}/purchase_orders"
    bad = st.one_of(st.integers(max_value=0), st.integers(min_value=100_001, max_value=10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5), st.booleans(), st.none(),
                    st.lists(st.integers(), max_size=2))

    keys = iter(range(10**6))

    @settings(max_examples=60, deadline=None)
    @given(quantity=bad, quick=st.booleans())
    def attempt(quantity, quick):
        body = {"supplier_code": "CN-ANJI-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA",
                "quantity": quantity, "need_by": None, "reference": "h", "quick_response": quick}
        r = requests.post(url, json=body, headers={**BEARER, "Idempotency-Key": f"h-{next(keys)}"},
                          timeout=10)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantity"

    attempt()
    body = {"supplier_code": "CN-ANJI-02", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity": 1,
            "need_by": None, "reference": "h", "quick_response": False}
    r = requests.post(url, json=body, headers={**BEARER, "Idempotency-Key": "valid"}, timeout=10)
    assert r.status_code == 201 and r.json()["purchase_order"]["po_number"] == "PO-2026-A0001"   # the first PO


def test_the_same_writes_make_the_same_world_and_leave_the_past_alone():
    """World.place_po / book_freight / place_transfer called directly (as the drama calibration does):
    same seed and same calls → the same records; nothing before the call changes."""
    def run(with_writes: bool):
        world = World(7, ManualClock(T0), 1, [])
        at = T0 + timedelta(hours=3)
        before = world.purchase_orders(at), world.inventory_levels(at), world.trackings(at)
        if with_writes:
            po = world.place_po("CN-ANJI-02", "GL-BOWL-01", "US-WEST-LA", 150, at, quick_response=True)
            world.book_freight("air", "CN-ANJI-02", "US-WEST-LA", "GL-BOWL-01", 150, at, po_number=po)
            world.place_transfer("GL-CUP-01", "US-EAST-NJ", "US-WEST-LA", 30, at)
        later = T0 + timedelta(days=4)                   # produced, flown, received, closed
        return before, (world.purchase_orders(later), world.inventory_levels(later), world.trackings(later))

    quiet_before, quiet_after = run(False)
    before, after = run(True)
    again_before, again_after = run(True)
    assert before == quiet_before and (before, after) == (again_before, again_after)
    assert after != quiet_after
    assert any(p.po_number == "PO-2026-A0001" and p.status == "closed" for p in after[0])
