"""Customers page (AppTest): headline KPIs, breakdowns and returns by reason equal direct pandas
computations from the raw rows; trends are drawn; empty / failing states never raise."""
import base64
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import duckdb
import pandas as pd
import pytest

from connectors import derived
from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, sample_rows, tower_env  # noqa: F401
from tower import kpis
from tower.ui import fmt


def label(name: str) -> str:
    return kpis.get(name).label


@pytest.fixture
def customer_db(tmp_path):
    """The sample world plus two more delivered orders: a late DHL parcel to Germany (40 h, two
    unhappy survey answers) and an on-time UPS parcel in the US (24 h)."""
    now = datetime.now(UTC)
    rows = sample_rows(now)
    base = now.replace(second=0, microsecond=0)
    h = lambda n: base + timedelta(hours=n)
    for oid, merchant, channel, market, created, promised, delivered, carrier in (
        ("ORD-L1", "nordic-nest", "tiktok", "DE", h(-60), h(-30), h(-20), "dhl"),
        ("ORD-L2", "green-living", "web", "US", h(-30), h(-5), h(-6), "ups"),
    ):
        rows["orders"].append({"order_id": oid, "order_number": oid, "merchant_id": merchant, "channel": channel,
                               "market": market, "warehouse_id": "EU-DE-HAM" if market == "DE" else "US-WEST-LA",
                               "created_at": created, "promised_delivery_at": promised,
                               "fulfilled_at": created + timedelta(hours=2), "cancelled_at": None,
                               "total_price": 20.0, "shipping_cost": 5.0, "currency": "USD", "updated_at": delivered})
        rows["order_lines"].append({"order_id": oid, "line_id": "1", "sku": "GL-CUP-02", "quantity": 1, "price": 20.0})
        rows["shipments"].append({
            "shipment_id": f"SH-{oid}", "tracking_number": oid, "carrier": carrier, "mode": "express",
            "direction": "outbound", "order_id": oid, "po_id": None, "warehouse_id": "US-WEST-LA",
            "origin_country": "US", "destination_country": market, "destination_city": None, "tag": "Delivered",
            "subtag": "Delivered_001", "eta": promised, "promised_delivery_at": promised,
            "shipped_at": created + timedelta(hours=3), "delivered_at": delivered, "last_checkpoint_at": delivered,
            "last_lat": None, "last_lon": None, "created_at": created, "updated_at": delivered})
    rows["nps_responses"] += [
        {"response_id": f"N-L1-{i}", "order_id": "ORD-L1", "merchant_id": "nordic-nest", "market": "DE",
         "score": s, "comment": "late", "created_at": h(-10), "updated_at": h(-10)} for i, s in enumerate((2, 5))]
    return build_db(tmp_path / "customers.duckdb", rows), rows, base


def delivered_orders(rows, now) -> pd.DataFrame:
    orders = pd.DataFrame(rows["orders"])
    ships = pd.DataFrame(rows["shipments"])
    ships = ships[(ships["direction"] == "outbound") & ships["order_id"].notna()]
    d = orders.merge(ships[["order_id", "carrier", "delivered_at"]], on="order_id")
    d = d[d["delivered_at"].notna() & (d["delivered_at"] >= now - timedelta(days=7)) & (d["delivered_at"] < now)]
    d["on_time"] = d["delivered_at"] <= d["promised_delivery_at"]
    d["hours"] = (d["delivered_at"] - d["created_at"]).dt.total_seconds() / 3600
    return d


def decode(array) -> list:
    """Plotly's JSON may carry arrays as typed base64 ('bdata'); decode either form."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def nps(scores: pd.Series) -> float:
    return 100 * ((scores >= 9).sum() - (scores <= 6).sum()) / len(scores)


def test_headline_kpis_match_the_rows(tower_env, customer_db):
    path, rows, now = customer_db
    tower_env(path)
    at = open_app("pages/customers.py", window="7d")
    assert not at.exception
    d = delivered_orders(rows, now)
    assert len(d) == 3
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[label("on_time_rate")] == fmt.pct(d["on_time"].mean()) == "66.7%"
    p50, p90 = d["hours"].quantile(0.5), d["hours"].quantile(0.9)
    assert metrics[label("delivery_speed_p50_hours")] == f"{p50:.1f} h" == "38.0 h"
    assert metrics[label("delivery_speed_p90_hours")] == f"{p90:.1f} h" == "39.6 h"
    scores = pd.DataFrame(rows["nps_responses"])["score"]
    assert metrics[label("nps")] == fmt.number(nps(scores), signed=True) == "-17"
    assert any(c.value.startswith(f"n = {len(scores)}: too few") for c in at.caption)
    returned = {r["order_id"] for r in rows["returns"] if r["status"] != "rejected"}
    assert metrics[label("return_rate")] == fmt.pct(d["order_id"].isin(returned).mean()) == "33.3%"
    # OTIF: on time and no wrong-item/damaged return
    bad = {r["order_id"] for r in rows["returns"]
           if r["status"] != "rejected" and r["reason"] in ("wrong_item", "damaged")}
    otif = (d["on_time"] & ~d["order_id"].isin(bad)).mean()
    assert metrics[label("otif")] == fmt.pct(otif)


def test_breakdown_by_carrier_and_market(tower_env, customer_db):
    path, rows, now = customer_db
    tower_env(path)
    at = open_app("pages/customers.py", window="7d")
    d = delivered_orders(rows, now)
    table = at.dataframe[0].value.set_index("dimension_value")
    by_carrier = d.groupby("carrier")["on_time"].agg(["mean", "size"])
    for carrier, row in by_carrier.iterrows():
        assert table.loc[carrier, "on_time_rate"] == pytest.approx(100 * row["mean"])
        assert table.loc[carrier, "on_time_rate_n"] == row["size"]

    at.radio(key="customers_dimension").set_value("market").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("dimension_value")
    responses = pd.DataFrame(rows["nps_responses"])
    for market, scores in responses.groupby("market")["score"]:
        assert table.loc[market, "nps"] == pytest.approx(nps(scores))
        assert table.loc[market, "nps_n"] == len(scores)
    assert table.loc["DE", "on_time_rate"] == 0


def test_returns_by_reason_and_trends_are_drawn(tower_env, customer_db):
    path, rows, now = customer_db
    tower_env(path)
    at = open_app("pages/customers.py", window="7d")
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    trend = figs[0]
    # one panel per customer KPI with a trend, titled by the layer's labels
    assert [t["name"] for t in trend["data"]] == [kpis.get(n).label for n in kpis.CUSTOMERS]
    on_time = next(t for t in trend["data"] if t["name"] == label("on_time_rate"))
    d = delivered_orders(rows, now)
    by_day = d.assign(day=d["delivered_at"].dt.floor("D")).groupby("day")["on_time"].mean() * 100
    points = [v for v in decode(on_time["y"]) if v == v and v is not None]
    assert points == pytest.approx(by_day.sort_index().tolist())
    reasons = figs[-1]["data"][0]
    assert list(reasons["y"]) == ["Damaged"]
    damaged = {r["order_id"] for r in rows["returns"] if r["reason"] == "damaged"}
    rate = 100 * d["order_id"].isin(damaged).sum() / len(d)
    assert decode(reasons["x"])[0] == pytest.approx(rate)


def test_hourly_trend_for_short_windows_and_chinese(tower_env, customer_db):
    path, _, _ = customer_db
    tower_env(path)
    at = open_app("pages/customers.py", window="7d", lang="zh")
    days = pd.to_datetime(decode(json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["x"]))
    assert (days.diff().dropna() == pd.Timedelta(days=1)).all()  # a week trends by day
    # yesterday and today, not today alone: minutes after midnight UTC today holds nothing yet
    today = datetime.now(UTC).date()
    at = open_app("pages/customers.py", window="custom", lang="zh",
                  **{"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()})
    assert not at.exception
    assert at.title[0].value == "客户"
    # a short window trends by hour: one point per UTC hour begun since yesterday, none after now
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert [t["name"] for t in trend] == [kpis.get(n).title("zh") for n in kpis.CUSTOMERS]
    hours = pd.to_datetime(decode(trend[0]["x"]))
    assert (hours.diff().dropna() == pd.Timedelta(hours=1)).all()
    assert len(hours) == 24 + pd.Timestamp(datetime.now(UTC)).hour + 1


def test_empty_database_shows_an_empty_state(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app("pages/customers.py", window="7d")
    assert not at.exception
    assert any("No deliveries, shipments or survey answers" in i.value for i in at.info)


def test_failing_source_still_renders(tower_env, failing_db):
    tower_env(failing_db.path)
    at = open_app("pages/customers.py", window="7d")
    assert not at.exception
    assert {m.label for m in at.metric} >= {label("on_time_rate"), label("nps")}


def test_nps_on_the_synced_sandbox_world(tower_env, sandbox_db, tmp_path):
    import duckdb

    path = sandbox_db.copy_to(tmp_path)
    with duckdb.connect(str(path), read_only=True) as con:
        scores = con.execute("select score from nps_responses where score between 0 and 10").df()["score"]
    assert len(scores) > 0
    tower_env(path)
    # a custom window holding the whole simulated history (whole UTC days, up to now)
    start = (sandbox_db.anchor - timedelta(days=sandbox_db.history_days + 1)).date()
    at = open_app("pages/customers.py", window="custom", **{"from": start.isoformat(),
                                                             "to": sandbox_db.now.date().isoformat()})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[label("nps")] == fmt.number(nps(scores), signed=True)
    assert any(c.value == f"n = {len(scores):,}" for c in at.caption)


def test_breakdown_without_any_delivered_parcel_still_shows_the_survey_kpis(tower_env, customer_db):
    """No parcels tracked yet (the tracking source down since the start): the breakdown shows NPS
    by market and empty delivery columns, not a KeyError."""
    path, rows, now = customer_db
    with duckdb.connect(str(path)) as con:
        con.execute("delete from tracking_events; delete from shipments")
        derived.rebuild(con)  # raw rows deleted behind the connectors' back: recompute the rollups
    tower_env(path)
    at = open_app("pages/customers.py", window="7d")
    at.radio(key="customers_dimension").set_value("market").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("dimension_value")
    assert table["on_time_rate"].isna().all()
    responses = pd.DataFrame(rows["nps_responses"])
    for market, scores in responses.groupby("market")["score"]:
        assert table.loc[market, "nps"] == pytest.approx(nps(scores))
