"""The hourly rollups (migration 019, connectors/rollups.py) after any sequence of writes through
`connectors.writes.upsert` — orders placed, cancelled and delivered late, shipments re-assigned to
another order or updated by a partial batch, returns arriving, survey answers, lines, replays and
duplicated rows — equal a full rebuild from the raw rows, and every rolled-up KPI (value, n,
breakdowns, hour buckets) equals the same KPI computed from the raw facts, for windows with partial
hours at both ends and for past "as of" moments (a retro, where later returns must not count)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from connectors import derived
from connectors.records import Table
from connectors.writes import upsert
from tower import kpis
from tower.alerts import rules
from tower.db import Database

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
ROLLUPS = ("rollup_orders", "rollup_lines", "rollup_answers", "rollup_order_hours", "rollup_survey_hours", "rollup_line_hours",
           "rollup_forecast_hours")
TABLES = {
    "orders": Table("orders", ("order_id",)),
    "order_lines": Table("order_lines", ("order_id", "line_id"), "merge", None),
    "shipments": Table("shipments", ("shipment_id",)),
    "returns": Table("returns", ("return_id", "sku")),
    "nps_responses": Table("nps_responses", ("response_id",)),
    "csat_responses": Table("csat_responses", ("response_id",)),
    "forecasts": Table("forecasts", ("sku", "market", "period_start")),
}
STOCK = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)
KPIS = ("on_time_rate", "otif", "return_rate", "order_accuracy", "nps", "csat", "sales_vs_forecast",
        "delivery_speed_p50_hours", "delivery_speed_p90_hours",
        # the stock KPIs read the sales per sku × warehouse: a week (rollup hours and edges) and 4 hours
        "days_of_supply", "hours_to_stockout", "stockouts")
ORDERS = [f"o{i}" for i in range(6)]

# a moment in the last 30 hours, to the second (so hours are cut anywhere)
moment = st.integers(0, 30 * 3600).map(lambda s: NOW - timedelta(seconds=s))
maybe_moment = st.none() | moment
version = st.integers(0, 1000).map(lambda s: NOW - timedelta(days=1) + timedelta(seconds=s))


def order(order_id, merchant, channel, market, warehouse, created, promised, fulfilled, cancelled, v):
    return "orders", [{"order_id": order_id, "merchant_id": merchant, "channel": channel, "market": market,
                       "warehouse_id": warehouse, "created_at": created, "promised_delivery_at": promised,
                       "fulfilled_at": fulfilled, "cancelled_at": cancelled, "updated_at": v}]


def shipment(shipment_id, order_id, carrier, shipped, delivered, v):
    return "shipments", [{"shipment_id": shipment_id, "order_id": order_id, "direction": "outbound",
                          "carrier": carrier, "shipped_at": shipped, "delivered_at": delivered, "updated_at": v}]


def delivery_update(shipment_id, delivered, v):
    # a partial batch (no order_id column): the stored order keeps it
    return "shipments", [{"shipment_id": shipment_id, "delivered_at": delivered, "updated_at": v}]


def return_request(return_id, order_id, reason, status, created, v):
    return "returns", [{"return_id": return_id, "sku": "SKU-A", "order_id": order_id, "quantity": 1,
                        "reason": reason, "status": status, "created_at": created, "updated_at": v}]


def answer(table, response_id, order_id, score, merchant, created, v):
    return table, [{"response_id": response_id, "order_id": order_id, "merchant_id": merchant,
                    "score": score, "created_at": created, "updated_at": v}]


def line(order_id, line_id, sku, quantity):
    return "order_lines", [{"order_id": order_id, "line_id": line_id, "sku": sku, "quantity": quantity}]


def forecast(sku, market, period, units, v):
    return "forecasts", [{"sku": sku, "market": market, "period_start": period.replace(minute=0, second=0),
                          "units": units, "updated_at": v}]


write = st.one_of(
    st.builds(forecast, st.sampled_from(["SKU-A", "SKU-B"]), st.sampled_from(["US", "GB"]), moment,
              st.none() | st.floats(0, 50), version),
    st.builds(order, st.sampled_from(ORDERS), st.sampled_from(["m1", "m2"]), st.sampled_from(["web", "tiktok"]),
              st.sampled_from(["US", "GB"]), st.sampled_from(["W1", "W2"]), moment, maybe_moment,
              maybe_moment, st.none() | st.none() | moment, version),
    st.builds(shipment, st.sampled_from(["s0", "s1", "s2", "s3", "s4"]), st.none() | st.sampled_from(ORDERS),
              st.sampled_from(["ups", "dhl"]), maybe_moment, maybe_moment, version),
    st.builds(delivery_update, st.sampled_from(["s0", "s1", "s2", "s3", "s4"]), maybe_moment, version),
    st.builds(return_request, st.sampled_from(["r0", "r1", "r2"]), st.sampled_from(ORDERS),
              st.sampled_from(["wrong_item", "changed_mind", "damaged"]),
              st.sampled_from(["submitted", "rejected", "done"]), maybe_moment, version),
    st.builds(answer, st.sampled_from(["nps_responses"]), st.sampled_from(["n0", "n1", "n2"]),
              st.none() | st.sampled_from(ORDERS), st.integers(-1, 10), st.none() | st.just("m3"), maybe_moment, version),
    st.builds(answer, st.sampled_from(["csat_responses"]), st.sampled_from(["c0", "c1"]),
              st.sampled_from(ORDERS), st.integers(0, 5), st.none(), maybe_moment, version),
    st.builds(line, st.sampled_from(ORDERS), st.sampled_from(["l1", "l2"]), st.sampled_from(["SKU-A", "SKU-B"]),
              st.none() | st.integers(1, 4)),
)
# a batch: a write, sometimes with its row twice (a duplicated event)
batch = st.tuples(write, st.booleans())


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("rollups") / "tower.duckdb")
    yield db
    db.close()


def snapshot(cur) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ROLLUPS:
        df = cur.table(name).df()
        out[name] = df.sort_values(list(df.columns), ignore_index=True, na_position="first")
    return out


def kpi_frame(cur, name: str, params: dict, raw: bool) -> pd.DataFrame:
    cur.execute(queries.load("rollups/raw_only"), {"raw": raw})
    sql = queries.kpi_call(name)
    df = cur.execute(sql, kpis.bind(sql, params)).df()
    cols = ["dimension_value", "bucket_start"]
    return df.sort_values(cols, ignore_index=True, na_position="first")


def apply(cur, batches) -> None:
    for (table, rows), duplicated in batches:
        upsert(cur, TABLES[table], rows * 2 if duplicated else rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(batch, min_size=1, max_size=14), replay=st.booleans(),
       window_start=st.none() | moment, as_of=moment, dimension=st.sampled_from([None, "carrier", "market"]),
       bucket=st.sampled_from([None, "hour", "day"]))
def test_rollups_equal_a_rebuild_and_rolled_kpis_equal_the_raw_facts(db, batches, replay, window_start, as_of,
                                                                     dimension, bucket):
    cur = db.cursor()
    cur.execute("begin")
    try:
        # every pair counted before any moment (one out of stock), so the stock KPIs weigh the sales
        upsert(cur, STOCK, [{"sku": sku, "warehouse_id": wh, "observed_at": NOW - timedelta(hours=40),
                             "available": 0 if (sku, wh) == ("SKU-B", "W2") else 7}
                            for sku in ("SKU-A", "SKU-B") for wh in ("W1", "W2")])
        apply(cur, batches)
        if replay:  # a source replays what it sent (same rows again, in the same order)
            apply(cur, batches)
        incremental = snapshot(cur)
        derived.rebuild(cur)
        rebuilt = snapshot(cur)
        for name in ROLLUPS:
            pd.testing.assert_frame_equal(incremental[name], rebuilt[name], check_dtype=False, obj=name)

        params = {"start": window_start, "end": as_of, "now": NOW}
        for name in KPIS:
            dim = "sku" if name == "sales_vs_forecast" and dimension == "carrier" else dimension
            rolled = kpi_frame(cur, name, {**params, "dimension": dim, "bucket": bucket}, raw=False)
            raw = kpi_frame(cur, name, {**params, "dimension": dim, "bucket": bucket}, raw=True)
            pd.testing.assert_frame_equal(rolled, raw, check_dtype=False, obj=f"{name} {dim} {bucket}")
    finally:
        cur.execute(queries.load("rollups/raw_only"), {"raw": False})
        cur.execute("rollback")
        cur.close()


def surges(cur, as_of: datetime, window_hours: int, raw: bool) -> dict:
    """The demand_surge rule's findings (sold as % of forecast per sku × market) with every threshold
    at 0, so each pair with a forecast is compared."""
    cur.execute(queries.load("rollups/raw_only"), {"raw": raw})
    found = rules.run(cur, "demand_surge", {"now": as_of, "window_hours": window_hours, "yellow_percent": 0,
                                            "red_percent": 150, "min_forecast_units": 0})
    return {f.entity_id: (f.severity, round(f.metric, 6), f.detail) for f in found}


placed = st.tuples(st.sampled_from(ORDERS), st.sampled_from(["US", "GB"]), moment, st.none() | moment,
                   st.sampled_from(["SKU-A", "SKU-B"]), st.integers(1, 4), version)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(placed, min_size=1, max_size=8), as_of=moment, window_hours=st.integers(1, 30))
def test_the_demand_surge_alert_counts_the_rolled_lines_as_the_raw_orders(db, orders, as_of, window_hours):
    """demand_surge reads the lines with their order (rollup_lines) instead of joining every order
    and line: orders placed, re-placed and cancelled before or after `as_of`, every window."""
    cur = db.cursor()
    cur.execute("begin")
    try:
        for order_id, market, created, cancelled, sku, quantity, v in orders:
            upsert(cur, TABLES["orders"], order(order_id, "m1", "web", market, "W1", created, None, None,
                                                cancelled, v)[1])
            upsert(cur, TABLES["order_lines"], line(order_id, "l1", sku, quantity)[1])
        upsert(cur, TABLES["forecasts"], [forecast(sku, market, NOW - timedelta(hours=h), 1, NOW)[1][0]
                                          for sku in ("SKU-A", "SKU-B") for market in ("US", "GB")
                                          for h in range(32)])
        assert surges(cur, as_of, window_hours, raw=False) == surges(cur, as_of, window_hours, raw=True)
    finally:
        cur.execute(queries.load("rollups/raw_only"), {"raw": False})
        cur.execute("rollback")
        cur.close()


def test_a_return_requested_after_a_past_as_of_does_not_count_then(db):
    """Retro: an order delivered at 09:10 on time, returned at 11:30 as a wrong item. As of 11:00 the
    rolled-up KPIs show it on time, in full and not returned; as of now, returned and not in full."""
    cur = db.cursor()
    cur.execute("begin")
    try:
        at = NOW.replace(hour=0)
        upsert(cur, TABLES["orders"], order("o9", "m1", "web", "US", "W1", at, NOW, at, None, at)[1])
        upsert(cur, TABLES["shipments"], shipment("s9", "o9", "ups", at, NOW.replace(hour=9, minute=10), at)[1])
        upsert(cur, TABLES["returns"], return_request("r9", "o9", "wrong_item", "submitted",
                                                      NOW.replace(hour=11, minute=30), at)[1])
        start = NOW.replace(hour=8)
        then = {"start": start, "end": NOW.replace(hour=11), "now": NOW}
        live = {"start": start, "end": None, "now": NOW}
        assert kpi_frame(cur, "return_rate", then, raw=False)[["value", "n"]].values.tolist() == [[0.0, 1]]
        assert kpi_frame(cur, "otif", then, raw=False)[["value", "n"]].values.tolist() == [[100.0, 1]]
        assert kpi_frame(cur, "return_rate", live, raw=False)[["value", "n"]].values.tolist() == [[100.0, 1]]
        assert kpi_frame(cur, "otif", live, raw=False)[["value", "n"]].values.tolist() == [[0.0, 1]]
    finally:
        cur.execute("rollback")
        cur.close()


def test_delivery_time_counts_only_deliveries_known_by_the_as_of(db):
    """Delivery percentiles read the per-order rollup: as of 10:00 an order delivered at 11:00 is not
    yet delivered, nor is one placed after 10:00; as of now both count (6 h and 1 h)."""
    cur = db.cursor()
    cur.execute("begin")
    try:
        at = NOW.replace(hour=5)
        upsert(cur, TABLES["orders"], order("od1", "m1", "web", "US", "W1", at, NOW, None, None, at)[1])
        upsert(cur, TABLES["orders"], order("od2", "m1", "web", "US", "W1", at.replace(hour=10, minute=30),
                                            NOW, None, None, at)[1])
        upsert(cur, TABLES["shipments"], shipment("sd1", "od1", "ups", at, at.replace(hour=11), at)[1])
        upsert(cur, TABLES["shipments"], shipment("sd2", "od2", "ups", at, at.replace(hour=11, minute=30), at)[1])
        then = {"start": at, "end": NOW.replace(hour=10), "now": NOW}
        live = {"start": at, "end": None, "now": NOW}
        for raw in (False, True):
            assert kpi_frame(cur, "delivery_speed_p50_hours", then, raw=raw).empty
            assert kpi_frame(cur, "delivery_speed_p90_hours", live, raw=raw)[["value", "n"]].values.tolist() == [[5.5, 2]]
    finally:
        cur.execute("rollback")
        cur.close()


def test_the_hourly_rows_follow_an_order_whose_delivery_moves(db):
    """A shipment re-assigned from one order to another moves both orders' delivery hours: the
    rollup counts the new order in the hour and no longer the old one."""
    cur = db.cursor()
    cur.execute("begin")
    try:
        at = NOW.replace(hour=1)
        for oid in ("oa", "ob"):
            upsert(cur, TABLES["orders"], order(oid, "m1", "web", "US", "W1", at, NOW, None, None, at)[1])
        upsert(cur, TABLES["shipments"], shipment("sx", "oa", "ups", at, NOW.replace(hour=5), at)[1])
        moved = shipment("sx", "ob", "dhl", at, NOW.replace(hour=7), at + timedelta(minutes=1))[1]
        upsert(cur, TABLES["shipments"], moved)
        hours = cur.table("rollup_order_hours").df()
        delivered = hours[hours["basis"] == "delivered"]
        assert delivered["hour"].dt.hour.tolist() == [7] and delivered["carrier"].tolist() == ["dhl"]
        assert delivered["orders"].tolist() == [1]
    finally:
        cur.execute("rollback")
        cur.close()


@pytest.mark.parametrize("hours_ago", [0, 1.5, 30])
def test_stock_kpis_from_the_rollups_equal_the_raw_sales_per_pair(db, hours_ago):
    """The stock KPIs read a week of sales per sku × warehouse (rollup hours, edge lines) and the
    last 4 hours (lines): the same values as order_lines × orders, cancelled orders left out once
    cancelled, orders older than the week too."""
    as_of = NOW - timedelta(hours=hours_ago)

    def placed(order_id, warehouse, hours, cancelled_hours=None):
        return {"order_id": order_id, "merchant_id": "m1", "channel": "web", "market": "US",
                "warehouse_id": warehouse, "created_at": NOW - timedelta(hours=hours, minutes=17),
                "promised_delivery_at": None, "fulfilled_at": None, "updated_at": NOW - timedelta(days=9),
                "cancelled_at": None if cancelled_hours is None else NOW - timedelta(hours=cancelled_hours)}

    cur = db.cursor()
    cur.execute("begin")
    try:
        upsert(cur, STOCK, [{"sku": sku, "warehouse_id": wh, "observed_at": NOW - timedelta(days=9),
                             "available": 40} for sku in ("SKU-A", "SKU-B") for wh in ("W1", "W2")])
        upsert(cur, TABLES["orders"], [placed("o1", "W1", 2, cancelled_hours=1), placed("o2", "W1", 3),
                                       placed("o3", "W1", 26), placed("o4", "W2", 5 * 24), placed("o5", "W2", 8 * 24)])
        upsert(cur, TABLES["order_lines"], [
            {"order_id": o, "line_id": "l1", "sku": sku, "quantity": q}
            for o, sku, q in (("o1", "SKU-A", 3), ("o2", "SKU-A", 2), ("o3", "SKU-A", 5), ("o4", "SKU-B", 4),
                              ("o5", "SKU-B", 6))])
        params = {"start": None, "end": as_of, "now": NOW, "bucket": None}
        for name in ("days_of_supply", "hours_to_stockout", "stockouts"):
            for dimension in (None, "sku", "warehouse"):
                rolled = kpi_frame(cur, name, {**params, "dimension": dimension}, raw=False)
                raw = kpi_frame(cur, name, {**params, "dimension": dimension}, raw=True)
                pd.testing.assert_frame_equal(rolled, raw, check_dtype=False, obj=f"{name} {dimension}")
        whole = kpi_frame(cur, "days_of_supply", {**params, "dimension": None}, raw=False)
        assert whole["n"].iloc[0] > 0  # the week's sales were counted: the comparison is not vacuous
    finally:
        cur.execute(queries.load("rollups/raw_only"), {"raw": False})
        cur.execute("rollback")
        cur.close()
