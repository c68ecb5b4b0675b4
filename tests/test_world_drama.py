"""Drama in the default world (issue 13, item 5): on member day the trending salad bowl runs out in the
US and a large share of its member-day demand is lost; plan B-03 executed within the hour (a
quick-response PO to the backup, the promise "5-7 days", a coupon) takes the rest as backorders, so
the same seed loses measurably less."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.world import World, scenario_windows
from tower.clock import ManualClock

ANCHOR = datetime(2026, 11, 20, 9, 7, 13, tzinfo=UTC)   # the default world of tests/test_world.py
H = timedelta(hours=1)
SKU, MARKET, SHOP = "GL-BOWL-01", "US", "green-living"
EVENT_START = ANCHOR + 0.5 * H                            # member_day starts 30 min after the anchor
EVENT_END = EVENT_START + 24 * H
GAP_UNITS = 250                                           # the gap B-03 orders (within the backup's reserve)


def member_day(b03_at: datetime | None) -> World:
    """The default world (seed 7, 7 days of history, member_day), optionally with B-03 at `b03_at`."""
    world = World(7, ManualClock(ANCHOR), 7, scenario_windows(["member_day"], ANCHOR))
    if b03_at is not None:
        world.place_quick_po("CN-ANJI-02", SKU, "US-WEST-LA", GAP_UNITS, b03_at)
        world.set_metafield(SHOP, SKU, "custom", "promised_ship_time", "single_line_text_field", "5-7 days", b03_at)
        world.create_discount(SHOP, "SORRY10-B03", "Member day: sorry for the wait", 0.10,
                              ["someone@example.com"], None, None, b03_at)
    world.inventory_levels(EVENT_END + H)                 # simulate through the event
    return world


def event_lost(world: World) -> int:
    return sum(u for t, s, m, u in world.lost_sales(EVENT_END) if s == SKU and m == MARKET and t >= EVENT_START)


def event_sold(world: World) -> int:
    return sum(line.quantity for o in world.orders(EVENT_END) if o.market == MARKET and o.created_at >= EVENT_START
               for line in o.lines if line.sku == SKU)


@pytest.fixture(scope="module")
def without_action():
    return member_day(None)


@pytest.fixture(scope="module")
def with_b03():
    return member_day(EVENT_START + 1 * H)


def test_without_action_the_bowl_runs_out_and_about_40_percent_of_its_member_day_demand_is_lost(without_action):
    world = without_action
    us = {w.location_id for w in world.warehouses if w.warehouse_id.startswith("US-")}
    first_lost = min(t for t, s, m, u in world.lost_sales(EVENT_END) if s == SKU and m == MARKET and t >= EVENT_START)
    assert EVENT_START < first_lost < EVENT_END, "the bowl runs out during member day"
    levels = [lv for lv in world.inventory_levels(first_lost + H) if lv.sku == SKU and lv.location_id in us]
    assert all(lv.available == 0 for lv in levels), "both US warehouses are empty"
    lost, sold = event_lost(world), event_sold(world)
    assert 0.3 <= lost / (lost + sold) <= 0.5, (lost, sold)


def test_b03_within_the_hour_takes_backorders_and_loses_fewer_sales(without_action, with_b03):
    lost_before = event_lost(without_action)
    lost_after = event_lost(with_b03)
    skipped = sum(u for t, s, m, u in with_b03.unconverted(EVENT_END) if s == SKU and m == MARKET)
    backordered = sum(u for t, s, m, u, _ in with_b03.backordered(EVENT_END) if s == SKU and m == MARKET)
    assert backordered > 0
    assert lost_after + skipped < lost_before, (lost_after, skipped, lost_before)
    assert lost_after <= lost_before * 0.5, "B-03 at least halves the member-day loss"


def test_b03_orders_carry_the_longer_promise(with_b03, without_action):
    b03_at = EVENT_START + 1 * H
    late = [o for o in with_b03.orders(EVENT_END) if o.shop == SHOP and o.created_at >= b03_at + H
            and any(line.sku == SKU for line in o.lines)]
    assert late and all(o.promised_delivery_at >= o.created_at + timedelta(days=6) for o in late)
    # before the action the world is exactly the world nobody wrote to
    before = [o for o in with_b03.orders(b03_at) if o.created_at < b03_at]
    assert before == [o for o in without_action.orders(b03_at) if o.created_at < b03_at]


def _answers(world: World, emails: set[str], until: datetime) -> tuple[list[int], list[int]]:
    nps = [r.score for r in world.nps_responses(until) if r.email in emails]
    csat = [r.score for r in world.csat_responses(until) if r.email in emails]
    return nps, csat


def test_buyers_who_got_the_coupon_answer_nps_and_csat_better():
    """Same seed, same orders: the buyers given the coupon before delivery score higher; nobody else moves."""
    plain = World(7, ManualClock(ANCHOR), 2, [])
    buyers = {o.email.lower() for o in plain.orders(ANCHOR, SHOP) if o.created_at >= ANCHOR - 24 * H}
    later = ANCHOR + 9 * 24 * H
    plain_nps, plain_csat = _answers(plain, buyers, later)
    given = World(7, ManualClock(ANCHOR), 2, [])
    given.create_discount(SHOP, "SORRY10", "Sorry", 0.10, sorted(buyers), None, None, ANCHOR)
    nps, csat = _answers(given, buyers, later)
    assert len(nps) == len(plain_nps) > 5 and len(csat) == len(plain_csat) > 5
    assert sum(nps) > sum(plain_nps) and sum(csat) > sum(plain_csat)
    assert all(a >= b for a, b in zip(nps, plain_nps)) and all(a >= b for a, b in zip(csat, plain_csat))
    assert ([r.score for r in given.csat_responses(later) if r.email not in buyers]
            == [r.score for r in plain.csat_responses(later) if r.email not in buyers])


def test_buyers_told_about_a_delay_before_the_promised_date_answer_csat_better():
    """Telling buyers before their promised date softens a late delivery, and only a late one."""
    plain = World(7, ManualClock(ANCHOR), 2, [])
    told = World(7, ManualClock(ANCHOR), 2, [])
    orders = [o for o in told.orders(ANCHOR) if o.created_at >= ANCHOR - 36 * H]
    for o in orders:
        told.send_buyer_message(o.email, "en", "Your parcel", "It may arrive a little later.", o.name, ANCHOR)
    later = ANCHOR + 10 * 24 * H
    emails = {o.email for o in orders}
    before = {r.order_id: r.score for r in plain.csat_responses(later) if r.email in emails}
    after = {r.order_id: r.score for r in told.csat_responses(later) if r.email in emails}
    assert before.keys() == after.keys()
    changed = {oid for oid in before if before[oid] != after[oid]}
    assert changed and all(after[oid] > before[oid] for oid in changed)
    delivered = {t.order_id: t.shipment_delivery_date for t in told.trackings(later) if t.order_id in changed}
    promised = {o.order_id: o.promised_delivery_at for o in told.orders(later) if o.order_id in changed}
    assert all(delivered[oid] > promised[oid] for oid in changed), "only late deliveries are softened"
