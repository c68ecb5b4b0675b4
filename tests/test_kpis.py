"""KPI SQL (queries/kpi/) against independent pandas references (tests/kpi_reference.py), on seeded
generated data and — once the lead's `sandbox_db` fixture exists — on a sandbox-synced database.
Also: empty windows and databases, every filter, previous-window deltas and red/yellow/green."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import queries
from tests import kpi_reference as ref
from tests.ui_fixtures import open_app, tower_env  # noqa: F401  (tower_env is a fixture)
from tower import kpis
from tower.db import Database

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
RESULT_SETS = queries.names("pages")  # the per-entity lists pages read over the layer's facts


def approx_equal(sql_value, ref_value) -> bool:
    if ref_value is None or sql_value is None:
        return sql_value is None and ref_value is None
    return sql_value == pytest.approx(ref_value, rel=1e-9, abs=1e-9)


def params(now, start_h_ago=None, end_h_ago=0.0, **filters) -> dict:
    end = now - timedelta(hours=end_h_ago)
    start = None if start_h_ago is None else now - timedelta(hours=start_h_ago)
    p = {"start": start, "end": end, "now": now, "merchant": None, "channel": None, "market": None}
    return {**p, **filters}


# ── databases ───────────────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("kpi") / "kpi.duckdb")
    ref.load(db, ref.generate(seed=7, now=NOW, n_orders=400))
    yield db, NOW, ref.tables(db)
    db.close()


@pytest.fixture(scope="module")
def synced(request):
    """The lead's sandbox-synced database (tests/conftest.py), opened read-only once."""
    try:
        sandbox = request.getfixturevalue("sandbox_db")
    except pytest.FixtureLookupError:
        pytest.skip("no sandbox_db fixture (tests/conftest.py)")
    db = Database(sandbox.path, read_only=True)
    yield db, sandbox.now, ref.tables(db)
    db.close()


@pytest.fixture(params=["generated", "sandbox"])
def kpi_db(request, generated):
    """The same reference checks on our generated rows and on the sandbox-synced database."""
    if request.param == "generated":
        return generated
    return request.getfixturevalue("synced")


@pytest.fixture
def empty_db(tmp_path):
    db = Database(tmp_path / "empty.duckdb")  # a file: the real migrations and hardening apply
    yield db
    db.close()


# ── SQL equals the pandas reference ─────────────────────────────────────────────────────────────
WINDOWS = {
    "last_hour": {"start_h_ago": 1},
    "last_24h": {"start_h_ago": 24},
    "last_7d": {"start_h_ago": 24 * 7},
    "all_history": {"start_h_ago": None},
    "replay_2d_ago": {"start_h_ago": 24 * 4, "end_h_ago": 48},  # as of a past moment: history only
    "merchant_web_us": {"start_h_ago": 24 * 5, "merchant": "green-living", "channel": "web", "market": "US"},
    "warehouse_carrier": {"start_h_ago": 24 * 5, "warehouse": "US-WEST-LA", "carrier": "ups"},
    "market_gb": {"start_h_ago": 24 * 5, "market": "GB"},
    "end_after_now": {"start_h_ago": 24, "end_h_ago": -12},  # "today" not over: nothing after now
}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", ref.REFERENCE)
def test_sql_matches_reference(kpi_db, name, window):
    db, now, tables = kpi_db
    p = params(now, **WINDOWS[window])
    got = kpis.value(db, name, p)
    want = ref.REFERENCE[name](tables, p)
    assert approx_equal(got[0], want[0]) and got[1] == want[1], f"{name} {window}: sql {got} ref {want}"


def test_generated_data_is_not_trivial(generated):
    """The reference checks mean something only if the KPIs have data and vary."""
    db, now, _tables = generated
    p = params(now, start_h_ago=24 * 7)
    for name in ref.REFERENCE:
        value, n = kpis.value(db, name, p)
        assert value is not None and n > 0, name
    assert 0 < kpis.value(db, "on_time_rate", p)[0] < 100
    assert kpis.value(db, "stockouts", p)[0] > 0


windows = st.tuples(st.floats(0.25, 260), st.floats(0, 200))  # (length h, end h before now)
filters = st.fixed_dictionaries({
    "merchant": st.sampled_from((None,) + ref.MERCHANTS),
    "channel": st.sampled_from((None,) + ref.CHANNELS),
    "market": st.sampled_from((None,) + ref.MARKETS),
    "warehouse": st.sampled_from((None,) + tuple(w for w, _ in ref.WAREHOUSES)),
    "carrier": st.sampled_from((None,) + ref.CARRIERS),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(window=windows, chosen=filters)
def test_reference_holds_for_any_window_and_filters(generated, window, chosen):
    db, now, tables = generated
    length, end_ago = window
    p = params(now, start_h_ago=end_ago + length, end_h_ago=end_ago, **chosen)
    for name, reference in ref.REFERENCE.items():
        got, want = kpis.value(db, name, p), reference(tables, p)
        assert approx_equal(got[0], want[0]) and got[1] == want[1], f"{name} {p}: {got} vs {want}"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_orders=st.integers(0, 60), length=st.floats(1, 240))
def test_reference_holds_for_any_generated_dataset(tmp_path_factory, seed, n_orders, length):
    db = Database(tmp_path_factory.mktemp("gen") / "gen.duckdb")
    try:
        ref.load(db, ref.generate(seed=seed, now=NOW, n_orders=n_orders, days=4))
        tables = ref.tables(db)
        p = params(NOW, start_h_ago=length)
        for name, reference in ref.REFERENCE.items():
            got, want = kpis.value(db, name, p), reference(tables, p)
            assert approx_equal(got[0], want[0]) and got[1] == want[1], f"{name} seed={seed}"
    finally:
        db.close()


def test_stockouts_and_state_kpis_replay_from_history(generated):
    """'As of' a past moment counts the stock observed then, not today's."""
    db, now, tables = generated
    obs = tables["stock_observations"]
    for hours_ago in (0, 30, 100):
        as_of = now - timedelta(hours=hours_ago)
        latest = obs[obs["observed_at"] < as_of].sort_values("observed_at").groupby(
            ["sku", "warehouse_id"]).tail(1)
        value, n = kpis.value(db, "stockouts", params(now, start_h_ago=None, end_h_ago=hours_ago))
        assert n == len(latest)
        assert value == (latest["available"] <= 0).sum()


# ── empty inputs never fail ─────────────────────────────────────────────────────────────────────
ALL_FILTERS = {"merchant": "green-living", "channel": "web", "market": "US", "warehouse": "US-WEST-LA",
                   "carrier": "ups"}


@pytest.mark.parametrize("chosen", [{}, ALL_FILTERS], ids=["no_filters", "all_filters"])
def test_every_kpi_on_an_empty_database_is_null_not_an_error(empty_db, chosen):
    p = params(NOW, start_h_ago=24, **chosen)
    for name in kpis.catalog():
        assert kpis.value(empty_db, name, p) == (None, 0), name


def test_empty_window_gives_null(generated):
    db, now, _ = generated
    p = params(now, start_h_ago=10, end_h_ago=10)  # start == end
    states = {"days_of_supply", "hours_to_stockout"}  # "as of end": no window to be empty
    for name in set(ref.REFERENCE) - states:
        assert kpis.value(db, name, p)[0] is None, name
    for name in states:
        assert kpis.value(db, name, p)[0] is not None, name


def test_unknown_filter_value_gives_null(generated):
    db, now, _ = generated
    p = params(now, start_h_ago=24 * 7, merchant="no-such-shop")
    for name in ("on_time_rate", "nps", "return_rate", "fill_rate"):
        assert kpis.value(db, name, p) == (None, 0)


@pytest.mark.parametrize("name", RESULT_SETS)
def test_result_sets_run_on_empty_and_populated_databases(empty_db, generated, name):
    counts = []
    for db, now in ((empty_db, NOW), (generated[0], generated[1])):
        for chosen in ({}, ALL_FILTERS):
            p = {**params(now, start_h_ago=24 * 7), "limit": 5, "po_id": "PO-1", **chosen}
            counts.append(len(kpis.run(db, name, p)))
    assert counts[:2] == [0, 0], "an empty database lists nothing"


# ── breakdowns agree with the headline numbers ──────────────────────────────────────────────────
@pytest.mark.parametrize("dimension", ["carrier", "market", "merchant", "channel", "warehouse"])
@pytest.mark.parametrize("name", ["on_time_rate", "nps", "return_rate"])
def test_breakdown_adds_up_to_the_headline(generated, name, dimension):
    db, now, _ = generated
    p = params(now, start_h_ago=24 * 6, market="US")
    headline, n = kpis.value(db, name, p)
    rows = kpis.breakdown(db, name, p, dimension)
    assert n > 0 and rows["n"].sum() == n
    assert (rows["n"] * rows["value"]).sum() / n == pytest.approx(headline)
    assert rows["n"].is_monotonic_decreasing
    for row in rows.itertuples():  # each part is the headline filtered to that value
        if dimension != "warehouse" and row.dimension_value != "(unknown)":
            assert kpis.value(db, name, {**p, dimension: row.dimension_value}) == (
                pytest.approx(row.value), row.n)


def test_breakdown_rejects_unknown_dimension_without_sql_injection(generated):
    db, now, _ = generated
    p = params(now, start_h_ago=24 * 6)
    with pytest.raises(ValueError, match="cannot be broken down"):
        kpis.breakdown(db, "on_time_rate", p, "carrier; drop table orders")
    with pytest.raises(ValueError, match="cannot be broken down"):
        kpis.breakdown(db, "stockouts", p, "carrier")  # stock belongs to no carrier
    # even called directly, the macro groups by a value it reads, never by SQL it is given
    rows = db.df("select * from kpi_on_time_rate('-infinity', $now::timestamptz, "
                 "dimension := 'carrier; drop table orders')", {"now": now})
    assert list(rows["dimension_value"]) == ["(unknown)"]
    assert db.df("select count(*) as c from orders")["c"].iloc[0] > 0


def test_delivery_speed_breakdown_matches_reference(generated):
    db, now, tables = generated
    p = params(now, start_h_ago=24 * 6)
    rows = kpis.breakdown(db, "delivery_speed_p90_hours", p, "carrier")
    assert len(rows) > 1
    for row in rows.itertuples():
        want = ref.delivery_speed(tables, {**p, "carrier": row.dimension_value}, 0.9)
        assert row.value == pytest.approx(want[0]) and row.n == want[1]


def test_trend_buckets_add_up_to_the_window(generated):
    db, now, tables = generated
    start = (now - timedelta(days=5)).replace(hour=0, minute=0, second=0)
    p = {**params(now), "start": start}
    for name in ("on_time_rate", "nps", "return_rate", "otif", "order_accuracy", "fill_rate"):
        daily = kpis.trend(db, name, p, "day")
        hourly = kpis.trend(db, name, p, "hour")
        n = kpis.value(db, name, p)[1]
        assert daily["n"].sum() == n == hourly["n"].sum(), name
        # every bucket that has begun, quiet ones included (n = 0, no value); none after now
        assert len(daily) == 6 and len(hourly) == 5 * 24 + 12, name
        assert hourly.loc[hourly["n"] == 0, "value"].isna().all()
        day = daily.iloc[2]
        one_day = {**p, "start": day.bucket_start.to_pydatetime(),
                   "end": (day.bucket_start + pd.Timedelta(days=1)).to_pydatetime()}
        if name in ("return_rate", "otif", "order_accuracy", "fill_rate"):
            # a trend's cohorts are judged with everything known now (returns opened, lines shipped
            # since), a past window's as of its end: compare with the reference as of now
            cohort = ref._delivered(tables, one_day)
            if name == "return_rate":
                expected = 100.0 * cohort["order_id"].isin(ref._returned_ids(tables, pd.Timestamp(now))).mean()
            else:
                continue
        else:
            expected = kpis.value(db, name, one_day)[0]
        assert day.n > 0 and approx_equal(day.value, expected), name


def test_sales_vs_forecast_hourly_matches_window_total(generated):
    db, now, _tables = generated
    start = now - timedelta(hours=30)  # NOW is on the hour, so hours align
    p = {**params(now), "start": start, "end": now + timedelta(hours=6)}
    rows = kpis.trend(db, "sales_vs_forecast", p, "hour")
    assert len(rows) == 30, "hours that have begun, none of the future"
    total, n = kpis.value(db, "sales_vs_forecast", p)
    assert rows["units_sold"].sum() == n
    assert 100 * n / rows["forecast_units"].sum() == pytest.approx(total)
    plan = kpis.run(db, "pages/overview_forecast_by_hour", p)  # the plan is known ahead
    assert len(plan) == 36 and plan["forecast_units"].head(30).tolist() == pytest.approx(
        rows["forecast_units"].tolist())


def test_stock_health_against_watermarks_and_history(generated):
    db, now, tables = generated
    p = params(now, start_h_ago=24, end_h_ago=20)
    rows = kpis.run(db, "pages/stock_health", p)
    obs = tables["stock_observations"]
    as_of = now - timedelta(hours=20)
    latest = obs[obs["observed_at"] < as_of].sort_values("observed_at").groupby(
        ["sku", "warehouse_id"]).tail(1)
    merged = rows.merge(latest, on=["sku", "warehouse_id"], suffixes=("", "_ref"))
    assert len(merged) == len(rows) == len(latest)
    assert (merged["available"] == merged["available_ref"]).all()
    for r in rows.itertuples():
        if r.available <= 0 or r.available < r.limit_qty:
            assert r.status == "red"
        elif r.available < r.warning_qty:
            assert r.status == "yellow"
        else:
            assert r.status in ("green", "over")
    assert set(rows["status"]) >= {"red", "green"}
    selling = rows["hours_to_stockout"].notna() & (rows["available"] > 0)
    assert rows.loc[selling, "hours_to_stockout"].min() == pytest.approx(
        kpis.value(db, "hours_to_stockout", p)[0])


def test_skus_at_risk_are_the_soonest_to_run_out(generated):
    db, now, _ = generated
    p = {**params(now, start_h_ago=24), "limit": 3}
    top = kpis.run(db, "pages/overview_skus_at_risk", p)
    health = kpis.run(db, "pages/stock_health", p)
    expected = health["hours_to_stockout"].dropna().sort_values().head(3)
    assert len(top) == 3
    assert list(top["hours_to_stockout"]) == pytest.approx(list(expected))


def test_intransit_mix_and_return_reasons_match_headlines(generated):
    db, now, _tables = generated
    p = params(now, start_h_ago=24 * 8)
    mix = kpis.run(db, "pages/overview_intransit_mix", p)
    exceptions, in_transit = kpis.value(db, "exceptions", p)
    assert mix["shipments"].sum() == in_transit
    assert mix.set_index("tag").loc["Exception", "shipments"] == exceptions
    assert mix["share_pct"].sum() == pytest.approx(100)
    reasons = kpis.run(db, "pages/customers_returns_by_reason", p)
    rate, delivered = kpis.value(db, "return_rate", p)
    assert (reasons["delivered_orders"] == delivered).all()
    assert reasons["rate_pct"].max() <= rate + 1e-9  # each reason is part of all returns


# ── supply: PO progress and the tier plan on literal rows ───────────────────────────────────────
def test_po_progress_and_tier_share(empty_db):
    db = empty_db
    t0 = NOW - timedelta(days=10)
    ref.load(db, {
        "suppliers": [{"supplier_id": "VN", "tier": "primary", "name": "VN", "lead_time_days": 12},
                      {"supplier_id": "ZJ", "tier": "backup", "name": "ZJ", "lead_time_days": 7},
                      {"supplier_id": "LA", "tier": "emergency", "name": "LA", "lead_time_days": 2}],
        "purchase_orders": [
            # half the time gone, 20% produced: 30 points behind
            {"po_id": "PO1", "supplier_id": "VN", "sku": "A", "quantity_ordered": 1000, "ordered_at": t0,
                 "promised_ship_date": NOW + timedelta(days=10), "status": "in_production"},
            # due yesterday, not shipped: late, 100% expected
            {"po_id": "PO2", "supplier_id": "ZJ", "sku": "A", "quantity_ordered": 500, "ordered_at": t0,
                 "promised_ship_date": NOW - timedelta(days=1), "status": "in_production"},
            {"po_id": "PO3", "supplier_id": "LA", "sku": "A", "quantity_ordered": 500, "ordered_at": t0,
                 "promised_ship_date": NOW + timedelta(days=1), "status": "cancelled"},
            # closed with a QC gap (29 of 30 shipped): finished, so not late
            {"po_id": "PO4", "supplier_id": "LA", "sku": "B", "quantity_ordered": 30, "ordered_at": t0,
                 "promised_ship_date": NOW - timedelta(days=2), "status": "closed"},
        ],
        "po_progress": [
            {"po_id": "PO1", "observed_at": NOW - timedelta(hours=1), "quantity_produced": 200,
                 "quantity_shipped": 0},
            {"po_id": "PO1", "observed_at": NOW + timedelta(hours=1), "quantity_produced": 900,
                 "quantity_shipped": 0},  # after the moment: must not count
            {"po_id": "PO2", "observed_at": NOW - timedelta(hours=5), "quantity_produced": 500,
                 "quantity_shipped": 0},
            {"po_id": "PO4", "observed_at": NOW - timedelta(days=3), "quantity_produced": 30,
                 "quantity_shipped": 29, "status": "closed"},
        ],
    })
    p = params(NOW, start_h_ago=24 * 30)
    rows = kpis.run(db, "pages/suppliers_po_progress", p).set_index("po_id")
    assert set(rows.index) == {"PO1", "PO2", "PO4"}
    assert rows.loc["PO1", "produced_pct"] == pytest.approx(20)
    assert rows.loc["PO1", "behind_points"] == pytest.approx(30)
    assert list(rows["late"]) == [True, False, False] and rows.index[0] == "PO2"  # late first
    value, n = kpis.value(db, "supplier_progress_vs_plan", p)
    assert n == 3 and value == pytest.approx(((20 - 50) + (100 - 100) + (100 - 100)) / 3)
    # a window starting after PO4 was due and finished: it drops out, unfinished PO2 stays
    later = params(NOW, start_h_ago=24)
    assert set(kpis.run(db, "pages/suppliers_po_progress", later)["po_id"]) == {"PO1", "PO2"}
    # ordered volume 1000 primary / 500 backup / 30 emergency (cancelled not counted) vs 70-20-10
    share, units = kpis.value(db, "tier_share", p)
    assert units == 1530
    shares = (100 * 1000 / 1530, 100 * 500 / 1530, 100 * 30 / 1530)
    assert share == pytest.approx(sum(abs(a - b) for a, b in zip(shares, (70, 20, 10))) / 2)
    tiers = kpis.breakdown(db, "tier_share", p, "tier").set_index("dimension_value")
    assert tiers.loc["emergency", "n"] == 30 and tiers.loc["primary", "plan_pct"] == 70
    assert tiers["share_pct"].sum() == pytest.approx(100)
    assert tiers.loc["backup", "value"] == pytest.approx(100 * 500 / 1530 - 20)


def test_shipping_cost_is_one_currency_at_the_rate_of_the_orders_day(empty_db):
    """USD, EUR and GBP costs are converted at the rate in force on each order's day, not averaged as
    numbers; a currency without a rate is left out of the average and of n."""
    db = empty_db
    day = NOW.date()
    ref.load(db, {
        "fx_rates": [{"currency": "USD", "valid_from": day - timedelta(days=30), "rate_to_reporting": 1},
                     {"currency": "EUR", "valid_from": day - timedelta(days=30), "rate_to_reporting": 1.0},
                     {"currency": "EUR", "valid_from": day - timedelta(days=1), "rate_to_reporting": 1.2},
                     {"currency": "GBP", "valid_from": day - timedelta(days=30), "rate_to_reporting": 1.25}],
        "orders": [
            {"order_id": "u", "currency": "USD", "shipping_cost": 10, "created_at": NOW - timedelta(hours=3)},
            {"order_id": "e", "currency": "EUR", "shipping_cost": 10, "created_at": NOW - timedelta(hours=3)},
            {"order_id": "g", "currency": "GBP", "shipping_cost": 8, "created_at": NOW - timedelta(hours=3)},
            {"order_id": "x", "currency": "XYZ", "shipping_cost": 999, "created_at": NOW - timedelta(hours=3)},
            {"order_id": "old", "currency": "EUR", "shipping_cost": 10,
             "created_at": NOW - timedelta(days=3)},  # at the older rate, 1.0
        ],
    })
    value, n = kpis.value(db, "shipping_cost_per_order", params(NOW, start_h_ago=24))
    assert n == 3 and value == pytest.approx((10 + 12 + 10) / 3)
    value, n = kpis.value(db, "shipping_cost_per_order", params(NOW, start_h_ago=24 * 7))
    assert n == 4 and value == pytest.approx((10 + 12 + 10 + 10) / 4)


def test_inventory_turnover_on_literal_rows(empty_db):
    db = empty_db
    ref.load(db, {
        "skus": [{"sku": "A", "unit_cost": 2.0}, {"sku": "B", "unit_cost": 10.0}],
        "stock_observations": [
            {"sku": "A", "warehouse_id": "W", "observed_at": NOW - timedelta(days=3), "available": 100},
            {"sku": "B", "warehouse_id": "W", "observed_at": NOW - timedelta(days=3), "available": 10},
            {"sku": "A", "warehouse_id": "W", "observed_at": NOW - timedelta(hours=1), "available": 50},
            {"sku": "A", "warehouse_id": "W", "observed_at": NOW + timedelta(hours=1), "available": 1},  # future
        ],
        "orders": [{"order_id": "o1", "warehouse_id": "W", "created_at": NOW - timedelta(hours=12)},
                   {"order_id": "o2", "warehouse_id": "W", "created_at": NOW - timedelta(hours=2),
                        "cancelled_at": NOW - timedelta(hours=1)}],
        "order_lines": [{"order_id": "o1", "line_id": "1", "sku": "A", "quantity": 50},
                        {"order_id": "o2", "line_id": "1", "sku": "A", "quantity": 7}],
    })
    # stock value at start (1 day ago) 100×2 + 10×10 = 300, at the end 50×2 + 10×10 = 200
    value, n = kpis.value(db, "inventory_turnover", params(NOW, start_h_ago=24))
    assert n == 50 and value == pytest.approx(50 * 2.0 / 250 * 365)
    # nothing observed before the start: only the end value counts
    value, _ = kpis.value(db, "inventory_turnover", params(NOW, start_h_ago=24 * 5))
    assert value == pytest.approx(50 * 2.0 / 200 * 365 / 5)


@pytest.fixture(scope="module")
def survey_db(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("surveys") / "tower.duckdb")
    yield db
    db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(promoters=st.integers(0, 60), passives=st.integers(0, 60), detractors=st.integers(0, 60))
@example(promoters=21, passives=15, detractors=4)  # NPS 42.5: once shown +43 against an exact +42
def test_a_rate_is_its_counts_divided_once_so_a_half_rounds_like_the_exact_number(
        survey_db, promoters, passives, detractors):
    """NPS and CSAT are 100 × count ÷ answers, one rounding, so a value on a half (42.5) prints like
    the exact fraction does; p/n − d/n rounded twice and printed 42.50000000000001 as +43."""
    n = promoters + passives + detractors
    scores = [10] * promoters + [7] * passives + [3] * detractors
    at = NOW - timedelta(hours=2)
    survey_db.cursor().execute("delete from nps_responses; delete from csat_responses")
    ref.load(survey_db, {
        "nps_responses": [{"response_id": str(i), "score": s, "created_at": at} for i, s in enumerate(scores)],
        "csat_responses": [{"response_id": str(i), "score": 5 if s == 10 else 3 if s == 7 else 1,
                            "created_at": at} for i, s in enumerate(scores)]})
    p = params(NOW, start_h_ago=24)
    if n == 0:
        assert kpis.value(survey_db, "nps", p)[0] is None
        return
    assert kpis.value(survey_db, "nps", p) == (100 * (promoters - detractors) / n, n)
    assert kpis.value(survey_db, "csat", p) == (100 * promoters / n, n)


# ── tiles: previous window, delta and red/yellow/green ──────────────────────────────────────────
def write_targets(tmp_path, text: str):
    path = tmp_path / "kpis.toml"
    path.write_text(text, encoding="utf-8")
    return kpis.load_targets(path)


def test_tile_compares_with_the_previous_window(generated, tmp_path):
    db, now, tables = generated
    p = params(now, start_h_ago=48)
    targets = write_targets(tmp_path, "[on_time_rate]\ngreen = 95\nyellow = 90\n")
    tile = kpis.tile(db, "on_time_rate", p, targets)
    previous = ref.on_time_rate(tables, {**p, "start": now - timedelta(hours=96),
                                         "end": now - timedelta(hours=48)})[0]
    current = ref.on_time_rate(tables, p)[0]
    assert tile.value == pytest.approx(current) and tile.previous == pytest.approx(previous)
    assert tile.delta == pytest.approx(current - previous)
    assert tile.status == ("green" if current >= 95 else "yellow" if current >= 90 else "red")
    assert tile.improved == (current > previous)


@pytest.mark.parametrize("better,value,status", [
    ("higher", 96, "green"), ("higher", 95, "green"), ("higher", 92, "yellow"), ("higher", 80, "red"),
    ("lower", 4, "green"), ("lower", 6, "yellow"), ("lower", 8.01, "red"), ("higher", None, None),
])
def test_status_follows_the_direction(better, value, status):
    target = kpis.Target(95, 90, better) if better == "higher" else kpis.Target(5, 8, better)
    assert target.status(value) == status


def test_too_few_observations_get_no_colour_and_overrides_keep_min_n(generated, tmp_path):
    targets = write_targets(tmp_path, """
[nps]
green = 50
yellow = 30
min_n = 20
[nps.markets.GB]
green = 40
""")
    assert targets.for_kpi("nps", "GB") == kpis.Target(40, 30, "higher", 20)
    assert targets.for_kpi("nps").status(-80, n=3) is None      # three answers: no red tile
    assert targets.for_kpi("nps").status(-80, n=20) == "red"
    db, now, _ = generated
    p = params(now, start_h_ago=24 * 7)
    tile = kpis.tile(db, "nps", p, targets)
    assert tile.n >= 20 and tile.status is not None
    strict = write_targets(tmp_path, f"[nps]\ngreen = 50\nyellow = 30\nmin_n = {tile.n + 1}\n")
    few = kpis.tile(db, "nps", p, strict)
    assert few.value == tile.value and few.status is None


def test_market_override_and_shipped_targets(generated, tmp_path):
    targets = write_targets(tmp_path, """
[return_rate]
green = 1
yellow = 2
[return_rate.markets.GB]
yellow = 100
""")
    assert targets.for_kpi("return_rate", "GB") == kpis.Target(1, 100, "lower")
    assert targets.for_kpi("return_rate", "US") == kpis.Target(1, 2, "lower")
    db, now, _ = generated
    p = params(now, start_h_ago=24 * 7, market="GB")
    tile = kpis.tile(db, "return_rate", p, targets)
    assert 2 < tile.value < 100 and tile.status == "yellow"  # red without the GB override
    assert kpis.tile(db, "return_rate", {**p, "market": "US"}, targets).status == "red"
    shipped = kpis.load_targets()  # config/kpis.toml: every KPI has a consistent target
    assert set(shipped.default) == set(kpis.catalog())


@pytest.mark.parametrize("text,message", [
    ("[on_time_rate]\ngreen = 90\nyellow = 95\n", "contradict"),
    ("[on_time_rate]\ngreen = 90\n", "needs `yellow`"),
    ("[on_time_rate]\ngreen = 'x'\nyellow = 1\n", "must be numbers"),
    ("[no_such_kpi]\ngreen = 1\nyellow = 2\n", "no such KPI"),
    ("[on_time_rate\n", "not valid TOML"),
    ("[on_time_rate]\ngreen = 95\nyellow = 90\nmin_n = -1\n", "min_n"),
    ("[on_time_rate]\ngreen = 95\nyellow = 90\nmin_n = 2.5\n", "min_n"),
])
def test_bad_targets_file_names_the_problem(tmp_path, text, message):
    with pytest.raises(kpis.TargetsError, match=message):
        write_targets(tmp_path, text)


def test_tiles_without_start_or_targets(generated, tmp_path):
    db, now, _ = generated
    none = kpis.load_targets(tmp_path / "missing.toml")
    tiles = kpis.tiles(db, kpis.WAR_ROOM, params(now), none)
    assert [t.name for t in tiles] == list(kpis.WAR_ROOM)
    assert all(t.previous is None and t.delta is None and t.status is None for t in tiles)
    assert all(t.error is None for t in tiles)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(window=windows, chosen=filters)
def test_tiles_in_one_statement_are_each_kpis_own_value_now_and_in_the_window_before(generated, window, chosen):
    """kpis.tiles computes every tile and its previous window in one statement (queries.kpi_calls);
    each must still be what the KPI's own call and the independent reference give."""
    db, now, tables = generated
    length, end_ago = window
    p = params(now, start_h_ago=end_ago + length, end_h_ago=end_ago, **chosen)
    names = list(dict.fromkeys(kpis.WAR_ROOM + kpis.CUSTOMERS))
    together = kpis.tiles(db, names, p, kpis.Targets())
    assert together == [kpis.tile(db, name, p, kpis.Targets()) for name in names]
    before = kpis.previous_params(p)
    for t in together:
        if t.name in ref.REFERENCE:
            want, want_n = ref.REFERENCE[t.name](tables, p)
            assert approx_equal(t.value, want) and t.n == want_n, f"{t.name} {p}"
            assert approx_equal(t.previous, ref.REFERENCE[t.name](tables, before)[0]), f"{t.name} before {p}"


def test_one_broken_kpi_shows_its_error_on_its_own_tile_and_the_others_still_count(tmp_path):
    db = Database(tmp_path / "broken.duckdb")
    try:
        db.df("drop view orders_with_delivery")
        shown = {t.name: t for t in kpis.tiles(db, kpis.WAR_ROOM, params(NOW, start_h_ago=24), kpis.Targets())}
        assert "orders_with_delivery" in shown["on_time_rate"].error
        assert shown["stockouts"].error is None and shown["hours_to_stockout"].error is None
    finally:
        db.close()


def test_a_failing_query_becomes_a_tile_error_not_an_exception(tmp_path):
    db = Database(tmp_path / "broken.duckdb")
    db.df("drop view orders_with_delivery")
    tile = kpis.tile(db, "on_time_rate", params(NOW, start_h_ago=24), kpis.Targets())
    assert tile.value is None and "orders_with_delivery" in tile.error
    db.close()


# ── metadata for the glossary and the tiles ─────────────────────────────────────────────────────
def test_every_kpi_header_is_complete():
    catalog = kpis.catalog()
    assert len(catalog) >= 18
    for k in catalog.values():
        assert k.unit in kpis.UNITS and k.better in ("higher", "lower"), k.name
        assert k.label and k.label_zh and k.definition and k.definition_zh and k.grain, k.name
        assert k.format_value(12.5) != "—" and k.format_value(None) == "—"
        assert k.query == f"kpi/{k.name}" and f"create or replace macro kpi_{k.name}(" in k.sql
        assert set(k.dimensions) <= set(kpis.DIMENSIONS)


def test_every_kpi_is_one_macro_with_the_common_signature():
    """One file, one macro, one signature: the call template reaches every KPI the same way, and
    nothing in a KPI file is templated or bound from outside (a macro takes values, not SQL)."""
    signature = ("(window_start, as_of, merchant_filter := null, channel_filter := null,\n"
                 "    market_filter := null, warehouse_filter := null, carrier_filter := null, "
                 "dimension := null, bucket := null\n) as table")
    for name in queries.kpi_names():
        sql = queries.load(f"kpi/{name}")
        assert sql.count("create or replace macro") == 1, name
        assert f"create or replace macro kpi_{name}{signature}" in sql, name
        assert not kpis.referenced_params(sql) and "{" not in sql.split(") as table", 1)[1], name
    with pytest.raises(ValueError):
        queries.kpi_call("on_time_rate(); drop table orders; --")


# ── the glossary page ───────────────────────────────────────────────────────────────────────────


def page_text(at) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_glossary_lists_every_kpi_from_the_sql_headers(tower_env, tmp_path, lang):  # noqa: F811
    tower_env(Database(tmp_path / "g.duckdb").path)  # an empty database: the glossary needs no data
    at = open_app("pages/glossary.py", lang=lang)
    assert not at.exception
    text = page_text(at)
    target = kpis.load_targets().for_kpi("on_time_rate")
    for k in kpis.catalog().values():
        assert k.title(lang) in [s.value for s in at.subheader], k.name
        assert k.meaning(lang) in text, k.name
    assert kpis.get("on_time_rate").format_value(target.green) in text
    codes = [c.value.strip() for c in at.code]
    assert kpis.get("nps").sql.strip() in codes and queries.load("pages/stock_health").strip() in codes
    # where each KPI is shown, derived from the surfaces that call it
    assert ("Overview tiles" in text) == (lang == "en") and ("总览指标卡" in text) == (lang == "zh")
    assert ("越高越好" in text) == (lang == "zh") and ("higher is better" in text) == (lang == "en")


def test_glossary_search_narrows_the_list(tower_env, tmp_path):  # noqa: F811
    tower_env(Database(tmp_path / "g.duckdb").path)
    at = open_app("pages/glossary.py")
    at.text_input[0].input("stockout").run()
    assert not at.exception
    shown = {s.value for s in at.subheader}
    assert shown == {kpis.get("stockouts").label, kpis.get("hours_to_stockout").label}
    at.text_input[0].input("zzz-nothing").run()
    assert any("zzz-nothing" in i.value for i in at.info)
