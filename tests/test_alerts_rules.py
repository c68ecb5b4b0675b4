"""Each rule's SQL on literal-row databases through the real schema: it fires on the rows that
break the threshold with the right severity, stays quiet on those that don't, and reads "as of"
the bound $now (nothing from later rows leaks in)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tower.alerts import rules
from tower.db import Database
from test_alerts_helpers import T0, hours, make_settings, policy, put, stock

SETTINGS = make_settings()


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "rules.duckdb")
    yield d
    d.close()


def run(db, rule, now=T0, **override):
    params = {"now": now, "sources": "[]", **SETTINGS.rules[rule].params, **override}
    with db.cursor() as cur:
        found = rules.run(cur, rule, params)
    return {f.entity_id: f for f in found}


def order(db, oid, sku, qty, at, market="US", wh="US-WEST-LA", **extra):
    put(db, "orders", dict(order_id=oid, market=market, warehouse_id=wh, created_at=at, **extra))
    put(db, "order_lines", dict(order_id=oid, line_id="1", sku=sku, quantity=qty))


def test_stock_watermark_yellow_red_and_as_of_now(db):
    policy(db, "A", "W", warning=100, limit=20)
    policy(db, "B", "W", warning=100, limit=20)
    policy(db, "C", "W", warning=100, limit=20)
    stock(db, "A", "W", T0 - hours(1), 50)      # below warning
    stock(db, "B", "W", T0 - hours(1), 10)      # below limit
    stock(db, "C", "W", T0 - hours(1), 100)     # at warning: fine
    stock(db, "C", "W", T0 + hours(1), 5)       # later: must not leak into T0
    found = run(db, "stock_watermark")
    assert {k: (f.severity, f.metric, f.threshold) for k, f in found.items()} == {
        "A@W": ("yellow", 50, 100), "B@W": ("red", 10, 20)}
    assert run(db, "stock_watermark", now=T0 + hours(2))["C@W"].severity == "red"


def test_hours_to_stockout_uses_the_sku_class_threshold(db):
    put(db, "skus", dict(sku="CORE", sku_class="core"), dict(sku="TAIL", sku_class="long_tail"))
    stock(db, "CORE", "W", T0 - hours(1), 300)
    stock(db, "TAIL", "W", T0 - hours(1), 300)
    for i in range(4):                          # 30 units/h each over the KPI's 4 h pace window
        order(db, f"c{i}", "CORE", 30, T0 - hours(i + 0.5), wh="W")
        order(db, f"t{i}", "TAIL", 30, T0 - hours(i + 0.5), wh="W")
    order(db, "old", "CORE", 999, T0 - hours(5), wh="W")        # outside the window
    found = run(db, "hours_to_stockout")
    # 300 / 30 = 10 h: core (yellow < 48, red < 12) is red; long tail (yellow < 12, red < 4) yellow.
    assert {k: (f.severity, round(f.metric, 1), f.threshold) for k, f in found.items()} == {
        "CORE@W": ("red", 10.0, 12), "TAIL@W": ("yellow", 10.0, 12)}


def test_demand_surge_at_150_percent_of_prorated_forecast(db):
    for h in range(-4, 2):
        put(db, "forecasts", dict(sku="A", market="US", period_start=T0 + hours(h), units=10.0),
            dict(sku="B", market="US", period_start=T0 + hours(h), units=10.0),
            dict(sku="C", market="DE", period_start=T0 + hours(h), units=10.0))
    order(db, "a1", "A", 45, T0 - hours(1))     # 45 / 30 forecast = 150 % → yellow
    order(db, "b1", "B", 44, T0 - hours(1))     # 147 % → nothing
    order(db, "c1", "C", 61, T0 - hours(2), market="DE")   # 203 % → red
    order(db, "c2", "C", 99, T0 - hours(2), market="DE", cancelled_at=T0 - hours(1.5))  # cancelled
    found = run(db, "demand_surge")
    assert {k: (f.severity, round(f.metric, 1), f.threshold) for k, f in found.items()} == {
        "A@US": ("yellow", 150.0, 150), "C@DE": ("red", 203.3, 200)}
    assert "at 150 % of forecast" in found["A@US"].title and "at 203 %" in found["C@DE"].title
    # Half an hour later the window is 07:30–10:30 vs forecast 30 units: same sales, lower ratio.
    later = run(db, "demand_surge", now=T0 + hours(2.5))
    assert later == {}


def test_titles_never_show_a_line_the_severity_has_not_crossed(db):
    """A surge at 199.6 % of forecast is yellow (red from 200 %): its title must not read 200 %."""
    for h in range(-4, 2):
        put(db, "forecasts", dict(sku="A", market="US", period_start=T0 + hours(h), units=10.02))
    order(db, "a1", "A", 60, T0 - hours(1))     # 60 / 30.06 = 199.6 %
    f = run(db, "demand_surge")["A@US"]
    assert (f.severity, f.threshold) == ("yellow", 150) and 199.5 < f.metric < 200
    assert "at 199 % of forecast" in f.title
    policy(db, "S", "W", warning=100, limit=20)
    stock(db, "S", "W", T0 - hours(1), 20)
    stock_found = run(db, "stock_watermark")["S@W"]     # at the limit is not below it
    assert stock_found.severity == "yellow"


def test_inbound_shipments_past_eta_exception_and_silent_alert_one_by_one(db):
    base = dict(carrier="cosco", direction="inbound", created_at=T0 - hours(100), mode="express",
                tracking_number="COSU1", po_id="PO-1")
    put(db, "shipments",
        dict(shipment_id="late", tag="InTransit", eta=T0 - hours(20), last_checkpoint_at=T0 - hours(1), **base),
        dict(shipment_id="very-late", tag="InTransit", eta=T0 - hours(50), last_checkpoint_at=T0 - hours(1), **base),
        dict(shipment_id="grace", tag="InTransit", eta=T0 - hours(10), last_checkpoint_at=T0 - hours(1), **base),
        dict(shipment_id="done", tag="Delivered", eta=T0 - hours(50), delivered_at=T0 - hours(60), **base),
        dict(shipment_id="lost", tag="Exception", subtag="Exception_013", last_checkpoint_at=T0 - hours(3), **base),
        dict(shipment_id="customs", tag="Exception", subtag="Exception_004", last_checkpoint_at=T0 - hours(3), **base),
        dict(shipment_id="old-exc", tag="Exception", subtag="Exception_004", last_checkpoint_at=T0 - hours(100), **base),
        dict(shipment_id="quiet", tag="InTransit", last_checkpoint_at=T0 - hours(40), **base),
        dict(shipment_id="scanned", tag="InTransit", last_checkpoint_at=T0 - hours(30), **base),
        dict(shipment_id="quiet-sea", tag="InTransit", last_checkpoint_at=T0 - hours(200),
             **{**base, "mode": "sea"}))
    late = run(db, "shipment_past_eta")
    assert {k: f.severity for k, f in late.items()} == {"late": "yellow", "very-late": "red"}
    assert {f.entity_type for f in late.values()} == {"shipment"} and "PO-1" in late["late"].detail
    exc = run(db, "shipment_exception")
    assert {k: f.severity for k, f in exc.items()} == {"lost": "red", "customs": "yellow"}
    silent = run(db, "shipment_silent")
    # express: yellow after 36 h; an ocean leg may go weeks without a scan
    assert "quiet" in silent and "scanned" not in silent and "quiet-sea" not in silent
    assert silent["quiet"].severity == "yellow" and round(silent["quiet"].metric) == 40


def parcels(db, lane_country, carrier, n, prefix, **fields):
    fields = {"created_at": T0 - hours(100), **fields}
    put(db, "shipments", *[
        dict(shipment_id=f"{prefix}{i}", tracking_number=f"{prefix.upper()}{i}", carrier=carrier,
             direction="outbound", destination_country=lane_country, mode="express",
             order_id=f"o-{prefix}{i}", **fields) for i in range(n)])


def test_outbound_parcels_alert_per_lane_once_enough_are_in_trouble(db):
    p = SETTINGS.rules["parcel_lanes"].params
    lane_min, lane_red = p["lane_min_parcels"], p["lane_red_parcels"]
    recent = dict(last_checkpoint_at=T0 - hours(1))
    # late = past the customer's promise (the carrier's ETA may say otherwise)
    parcels(db, "US", "ups", lane_red, "ur", tag="InTransit", promised_delivery_at=T0 - hours(5),
            eta=T0 + hours(5), **recent)
    parcels(db, "DE", "dhl", lane_min, "dl", tag="InTransit", promised_delivery_at=T0 - hours(1), **recent)
    parcels(db, "GB", "royal-mail", lane_min - 1, "rm", tag="InTransit",
            promised_delivery_at=T0 - hours(30), **recent)                       # too few: quiet
    parcels(db, "FR", "colissimo", lane_min, "co", tag="InTransit", promised_delivery_at=T0 + hours(2),
            eta=T0 - hours(20), **recent)                                        # promise still good
    parcels(db, "CA", "canada-post", lane_min, "cp", tag="InTransit",             # no promise: ETA + grace
            eta=T0 - hours(p["grace_hours"] + 1), **recent)
    # one lane, three kinds of trouble: counted together, once each
    parcels(db, "DE", "dpd", 1, "dx", tag="Exception", subtag="Exception_013", last_checkpoint_at=T0 - hours(2))
    parcels(db, "DE", "dpd", 1, "ds", tag="InTransit", last_checkpoint_at=T0 - hours(40))
    parcels(db, "DE", "dpd", 1, "dz", tag="Exception", promised_delivery_at=T0 - hours(3),
            last_checkpoint_at=T0 - hours(1))
    parcels(db, "DE", "dpd", 1, "dold", tag="Exception", last_checkpoint_at=T0 - hours(100))  # claims' now
    parcels(db, "ES", "correos", lane_min, "cs", tag="InTransit", created_at=T0 + hours(1))  # not yet
    found = run(db, "parcel_lanes")
    assert {k: (f.entity_type, f.severity, f.metric) for k, f in found.items()} == {
        "ups:US": ("lane", "red", lane_red), "dhl:DE": ("lane", "yellow", lane_min),
        "canada-post:CA": ("lane", "yellow", lane_min), "dpd:DE": ("lane", "yellow", 3)}
    assert "UR0" in found["ups:US"].detail and "ups → US" in found["ups:US"].title
    assert found["dpd:DE"].detail.startswith("1 past the promised delivery, 2 in carrier exception, 1 without")
    # inbound-only rules leave parcels to the lane rule
    for rule in ("shipment_past_eta", "shipment_exception", "shipment_silent"):
        assert run(db, rule) == {}, rule


def test_po_behind_plan_and_supplier_silent(db):
    put(db, "suppliers", dict(supplier_id="VN", name="Hanoi Bamboo", tier="primary"),
        dict(supplier_id="ZJ", name="Zhejiang", tier="backup"))
    put(db, "purchase_orders",
        # half-way through its production window
        dict(po_id="P1", supplier_id="VN", sku="A", quantity_ordered=1000, status="in_production",
             ordered_at=T0 - hours(50), promised_ship_date=T0 + hours(50)),
        dict(po_id="P2", supplier_id="ZJ", sku="B", quantity_ordered=1000, status="in_production",
             ordered_at=T0 - hours(50), promised_ship_date=T0 + hours(50)),
        dict(po_id="P3", supplier_id="ZJ", sku="C", quantity_ordered=1000, status="closed",
             ordered_at=T0 - hours(50), promised_ship_date=T0 - hours(1)))
    put(db, "po_progress",
        dict(po_id="P1", observed_at=T0 - hours(13), quantity_produced=150),   # 15 % vs 50 % → red
        dict(po_id="P2", observed_at=T0 - hours(1), quantity_produced=400),    # 40 % vs 50 % → fine
        dict(po_id="P2", observed_at=T0 + hours(1), quantity_produced=0))      # the future: ignored
    behind = run(db, "po_behind_plan")
    assert {k: (f.severity, round(f.metric)) for k, f in behind.items()} == {"P1": ("red", 35)}
    silent = run(db, "supplier_silent")
    assert {k: (f.severity, round(f.metric)) for k, f in silent.items()} == {"VN": ("red", 13)}
    assert "Hanoi Bamboo" in silent["VN"].title


def test_node_congested(db):
    put(db, "nodes", dict(node_id="CNSZX", kind="port", name="Yantian", country="CN", status="congested"),
        dict(node_id="CNSHA", kind="airport", name="Pudong", country="CN", status="closed"),
        dict(node_id="USLAX", kind="port", country="US", status="normal"))
    put(db, "shipments", dict(shipment_id="s", direction="inbound", origin_country="CN", tag="InTransit",
                              created_at=T0 - hours(5)))
    found = run(db, "node_congested")
    assert {k: (f.severity, f.metric) for k, f in found.items()} == {"CNSZX": ("yellow", 1), "CNSHA": ("red", 1)}


def test_customer_kpis_per_market(db):
    rows = []
    for i in range(40):                           # US: 36/40 = 90 % on time: yellow (red is below 90 %)
        late = i < 4
        rows.append(("US", i, late))
    for i in range(40):                           # DE: 40/40 on time
        rows.append(("DE", 100 + i, False))
    for i in range(40):                           # GB: 37/40 = 92.5 %, but could be chance: quiet
        rows.append(("GB", 200 + i, i < 3))
    for i in range(200):                          # FR: 150/200 = 75 %: surely below 90 %: red
        rows.append(("FR", 300 + i, i < 50))
    put(db, "orders", *(dict(order_id=f"o{i}", market=market, created_at=T0 - hours(30),
                             promised_delivery_at=T0 - hours(5)) for market, i, _ in rows))
    put(db, "shipments", *(dict(shipment_id=f"s{i}", direction="outbound", order_id=f"o{i}", tag="Delivered",
                                delivered_at=T0 - hours(2 if late else 8), updated_at=T0 - hours(2))
                           for _, i, late in rows))
    put(db, "returns", *(dict(return_id=f"r{i}", sku="A", order_id=f"o{i + 10}", status="approved",
                              created_at=T0 - hours(1)) for i in range(6)),   # US: 6 / 40 = 15 % → red
        dict(return_id="rej", sku="A", order_id="o101", status="rejected", created_at=T0 - hours(1)))
    otr = run(db, "on_time_rate")
    assert {k: (f.severity, round(f.metric, 2)) for k, f in otr.items()} == {
        "US": ("yellow", 90.0), "FR": ("red", 75.0)}
    # targets per market (a default and overrides) or one number for all, in percent
    looser_us = run(db, "on_time_rate", yellow_target=json.dumps({"default": 95, "US": 85}), red_target=50)
    assert {k: f.severity for k, f in looser_us.items()} == {"FR": "yellow"}
    assert {k: f.threshold for k, f in run(db, "on_time_rate", yellow_target=95, red_target=90).items()} == {
        "US": 95, "FR": 90}
    rr = run(db, "return_rate", min_n=20)
    # the return-rate KPI's targets (config/kpis.toml: green ≤ 5, yellow ≤ 8): 15 % of 40 is surely
    # above 5 % (so it alerts), and the 15 % it shows is past the tile's red line, 8 %: red
    assert {k: (f.severity, round(f.metric, 1), f.threshold) for k, f in rr.items()} == {"US": ("red", 15.0, 8)}
    assert "Return rate 15.0 %" in rr["US"].title
    # a rate not surely above the yellow target does not alert at all
    assert run(db, "return_rate", min_n=20, yellow_target=12, red_target=20) == {}
    put(db, "nps_responses", *(dict(response_id=f"n{i}", market="US", score=score, created_at=T0 - hours(3))
                               for i, score in enumerate([10] * 10 + [8] * 5 + [3] * 10)))   # NPS 40 − 40 = 0 → red
    nps = run(db, "nps")    # 0 ± 18 points (25 answers): surely below 30 — and 0 is below red 10
    assert {k: (f.severity, f.metric, f.threshold) for k, f in nps.items()} == {"US": ("red", 0, 10)}
    assert run(db, "nps", yellow_target=10, red_target=5) == {}    # not surely below 10: quiet


def test_source_stale_or_failing(db):
    def runs(source, *items):
        for i, (ago_min, status) in enumerate(items):
            put(db, "sync_runs", dict(run_id=hash((source, i)) % 10**9, source=source, status=status,
                                      started_at=T0 - hours(ago_min / 60), finished_at=T0 - hours(ago_min / 60)))
    runs("fresh", (200, "ok"), (1, "ok"))
    runs("stale", (45, "ok"))
    runs("one-fail", (5, "ok"), (1, "failed"))
    runs("failing", (20, "ok"), (15, "failed"), (10, "failed"), (5, "failed"))
    runs("dead", (300, "ok"))
    runs("hourly", (50, "ok"))
    found = run(db, "source_stale")
    assert {k: f.severity for k, f in found.items()} == {
        "stale": "yellow", "one-fail": "yellow", "failing": "red", "dead": "red", "hourly": "yellow"}
    # Only configured sources count when the list is given, each judged against its own interval:
    # an hourly source 50 min after its last run is on time (stale from 3 h, red from 10 h).
    configured = json.dumps([{"source": "stale", "interval_minutes": 1}, {"source": "fresh", "interval_minutes": 1},
                             {"source": "hourly", "interval_minutes": 60}, {"source": "dead", "interval_minutes": 60}])
    found = run(db, "source_stale", sources=configured)
    assert {k: (f.severity, f.threshold) for k, f in found.items()} == {
        "stale": ("yellow", 30), "dead": ("yellow", 180)}


def test_every_configured_rule_runs_on_an_empty_database(db):
    for name in SETTINGS.rules:
        assert run(db, name) == {}


def test_lane_diagnosis_lists_the_orders_its_troubled_parcels_carry(db):
    from tower.alerts.diagnosis import diagnose
    seen = dict(last_checkpoint_at=T0 - hours(1), updated_at=T0 - hours(1))
    parcels(db, "US", "ups", 3, "ur", tag="InTransit", promised_delivery_at=T0 - hours(5), **seen)
    parcels(db, "US", "ups", 2, "ok", tag="InTransit", promised_delivery_at=T0 + hours(30),
            **seen)                                                             # on track: not affected
    parcels(db, "DE", "ups", 2, "de", tag="Exception", **seen)                   # another lane
    for prefix, n, promise in (("ur", 3, T0 - hours(5)), ("ok", 2, T0 + hours(30)), ("de", 2, T0)):
        for i in range(n):
            order(db, f"o-{prefix}{i}", "A", 1, T0 - hours(100), promised_delivery_at=promise,
                  order_number=f"#{prefix}{i}")
    d = diagnose(db, "carrier_exception", "ups:US", T0)
    assert not d.errors
    orders = d.sections["affected_orders"]
    assert sorted(orders.order_number) == ["#ur0", "#ur1", "#ur2"]
    assert (orders.hours_to_promise == -5).all()
    assert d.numbers["affected_orders"] == 3
    record = d.sections["carrier_record"].set_index("tag").shipments   # the carrier, all lanes
    assert record.to_dict() == {"InTransit": 5, "Exception": 2}


def test_confidence_macros_match_the_textbook_and_bracket_the_rate(db):
    with db.cursor() as cur:
        # Wilson 95 % interval of 36 successes in 40 trials: [0.7695, 0.9604] (any statistics text)
        lo, hi = cur.execute("select wilson_lower(0.9, 40, 1.96), wilson_upper(0.9, 40, 1.96)").fetchone()
        assert (round(lo, 4), round(hi, 4)) == (0.7695, 0.9604)
        # NPS of 10 promoters, 10 detractors in 25: 0 points, standard error 100·√(0.8/25) ≈ 17.9
        assert cur.execute("select nps_upper(10, 10, 25, 1)").fetchone()[0] == pytest.approx(17.89, abs=0.01)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 10_000), share=st.floats(0, 1), z=st.floats(0, 3))
def test_wilson_interval_stays_in_0_1_and_brackets_the_rate(db, n, share, z):
    k = round(share * n)
    with db.cursor() as cur:
        lo, hi = cur.execute("select wilson_lower($k / $n, $n, $z), wilson_upper($k / $n, $n, $z)",
                             {"k": k, "n": n, "z": z}).fetchone()
    assert -1e-9 <= lo <= k / n + 1e-9 and k / n - 1e-9 <= hi <= 1 + 1e-9


def test_a_source_red_from_its_failure_streak_says_so_in_the_title(db):
    for i, ago in enumerate((20, 15, 10, 5)):
        put(db, "sync_runs", dict(run_id=i, source="shopify", status="ok" if i == 0 else "failed",
                                  started_at=T0 - hours(ago / 60), finished_at=T0 - hours(ago / 60)))
    f = run(db, "source_stale")["shopify"]
    assert f.severity == "red" and f.metric < f.threshold          # young, but failing 3 times running
    assert "3 failed runs in a row" in f.title
