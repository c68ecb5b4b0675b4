"""Independent pandas implementations of the KPI definitions (DESIGN §4), and a seeded generator of
raw rows to check the SQL in queries/kpi/ against.

The reference functions read only the raw tables (never the SQL views) and re-implement each
definition in plain pandas, so a wrong join, window edge or filter in the SQL shows up as a
mismatch. `generate()` deliberately produces the awkward cases: cancelled orders, missing promises,
re-shipped orders (two outbound shipments), rejected returns, NPS responses without an order, stock
observations after the moment being replayed, partial forecast hours."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from connectors import derived

MERCHANTS = ("green-living", "nordic-nest")
CHANNELS = ("web", "tiktok", "marketplace")
MARKETS = ("US", "GB", "DE")
WAREHOUSES = (("US-WEST-LA", "US"), ("US-EAST-NJ", "US"), ("UK-LON", "GB"))
CARRIERS = ("ups", "fedex", "dhl")
SKUS = (("GL-BOWL-01", "core", 1.85), ("GL-CUP-02", "core", 1.10), ("GL-PLATE-03", "potential", 2.40),
        ("GL-SPOON-04", "long_tail", 0.35), ("GL-TRAY-05", "potential", 3.90))
REASONS = ("wrong_item", "damaged", "not_as_described", "changed_mind", "late_delivery")
RETURN_STATUSES = ("submitted", "approved", "done", "rejected", "expired")
TABLES = ("orders", "order_lines", "shipments", "tracking_events", "returns", "nps_responses",
          "csat_responses", "stock_observations", "forecasts", "skus", "warehouses", "stock_policies")


# ── generator ───────────────────────────────────────────────────────────────────────────────────
def generate(seed: int, now: datetime, n_orders: int = 150, days: float = 10.0) -> dict[str, list[dict]]:
    """Raw rows per table, everything at or before `now` (like the real sources), seeded."""
    rng = random.Random(seed)
    csat_rng = random.Random(seed + 1)  # its own stream: CSAT answers leave every other row as it was
    t0 = now - timedelta(days=days)

    def at(lo: datetime, hi: datetime) -> datetime:
        # whole seconds, like the sources; random within [lo, hi]
        span = max(int((hi - lo).total_seconds()), 0)
        return lo + timedelta(seconds=rng.randint(0, span))

    rows: dict[str, list[dict]] = {t: [] for t in TABLES}
    rows["skus"] = [{"sku": s, "name": s.title(), "sku_class": c, "unit_cost": cost, "unit_price": cost * 4}
                    for s, c, cost in SKUS]
    rows["warehouses"] = [{"warehouse_id": w, "name": w, "kind": "overseas", "market": m, "country": m}
                          for w, m in WAREHOUSES]
    for sku, *_ in SKUS:
        for wh, _m in WAREHOUSES:
            rows["stock_policies"].append({"sku": sku, "warehouse_id": wh, "safety_qty": 60, "warning_qty": 80,
                                               "limit_qty": 20})
            for observed in sorted({at(t0, now) for _ in range(rng.randint(3, 12))}):
                level = 0 if rng.random() < 0.15 else rng.randint(1, 400)
                rows["stock_observations"].append({"sku": sku, "warehouse_id": wh, "observed_at": observed,
                                                       "available": level})
    hour0 = t0.replace(minute=0, second=0, microsecond=0)
    for sku, *_ in SKUS:
        for market in MARKETS:
            for h in range(int(days * 24) + 24):  # plans run a day ahead of now
                rows["forecasts"].append({"sku": sku, "market": market,
                                              "period_start": hour0 + timedelta(hours=h),
                                              "units": round(rng.uniform(0, 1.5), 3)})

    for i in range(n_orders):
        oid = f"o{seed}-{i}"
        created = at(t0, now)
        wh, wh_market = rng.choice(WAREHOUSES)
        cancelled = created + timedelta(minutes=rng.randint(1, 600)) if rng.random() < 0.1 else None
        cancelled = cancelled if cancelled and cancelled <= now else None
        fulfilled = None
        if not cancelled and rng.random() < 0.9:
            fulfilled = created + timedelta(minutes=rng.randint(30, 3000))
            fulfilled = fulfilled if fulfilled <= now else None
        promised = None if rng.random() < 0.05 else created + timedelta(hours=rng.uniform(36, 120))
        rows["orders"].append({
            "order_id": oid, "order_number": str(1000 + i), "merchant_id": rng.choice(MERCHANTS),
            "channel": rng.choice(CHANNELS), "market": rng.choice((wh_market, wh_market, "DE")),
            "warehouse_id": wh, "created_at": created, "promised_delivery_at": promised, "fulfilled_at": fulfilled,
            "cancelled_at": cancelled, "total_price": round(rng.uniform(10, 90), 2),
            "shipping_cost": None if rng.random() < 0.05 else round(rng.uniform(2, 15), 2),
            "currency": "USD", "updated_at": created})
        for line in range(rng.randint(1, 3)):
            rows["order_lines"].append({"order_id": oid, "line_id": f"{oid}-{line}", "sku": rng.choice(SKUS)[0],
                                            "quantity": rng.randint(1, 4), "price": 9.5})
        if not fulfilled:
            continue
        # outbound shipment(s): sometimes the parcel is re-shipped; the newest record counts
        for attempt in range(2 if rng.random() < 0.08 else 1):
            shipped = fulfilled + timedelta(minutes=rng.randint(0, 240))
            if shipped > now:
                break
            delivered = shipped + timedelta(hours=rng.uniform(8, 150))
            if promised and rng.random() < 0.15:  # right on the promise: the <= edge matters
                delivered = promised + timedelta(seconds=rng.choice((-1, 0, 0, 1, 1800)))
            delivered = delivered if shipped < delivered <= now else None
            eta = shipped + timedelta(hours=rng.uniform(24, 110))
            if delivered:
                tag = "Delivered"
            else:
                tag = rng.choice(("InTransit", "InTransit", "OutForDelivery", "Exception", "Pending"))
            sid = f"s-{oid}-{attempt}"
            updated = delivered or at(shipped, now)
            rows["shipments"].append({
                "shipment_id": sid, "tracking_number": sid, "carrier": rng.choice(CARRIERS), "mode": "express",
                "direction": "outbound", "order_id": oid, "warehouse_id": wh, "destination_country": wh_market,
                "tag": tag, "eta": eta, "promised_delivery_at": promised, "shipped_at": shipped,
                "delivered_at": delivered, "created_at": shipped,
                "updated_at": updated + timedelta(seconds=attempt)})
            cp_times = sorted({at(shipped, delivered or now) for _ in range(rng.randint(0, 4))})
            for k, cp in enumerate(cp_times):
                last = k == len(cp_times) - 1
                rows["tracking_events"].append({
                    "shipment_id": sid, "checkpoint_time": cp, "tag": tag if last else "InTransit",
                    "message": f"scan {k}", "created_at": cp})
        if not rows["shipments"] or rows["shipments"][-1]["order_id"] != oid:
            continue
        delivered = rows["shipments"][-1]["delivered_at"]
        if delivered and rng.random() < 0.25:
            for r in range(rng.randint(1, 2)):
                opened = delivered + timedelta(hours=rng.uniform(1, 96))
                if opened <= now:
                    rows["returns"].append({
                        "return_id": f"rma-{oid}-{r}", "sku": rows["order_lines"][-1]["sku"], "order_id": oid,
                        "quantity": rng.randint(1, 2), "reason": rng.choice(REASONS),
                        "status": rng.choice(RETURN_STATUSES), "created_at": opened, "updated_at": opened})
        if delivered and rng.random() < 0.4:
            answered = delivered + timedelta(hours=rng.uniform(1, 48))
            if answered <= now:
                o = rows["orders"][-1]
                rows["nps_responses"].append({
                    "response_id": f"n-{oid}", "order_id": oid if rng.random() < 0.9 else None,
                    "merchant_id": o["merchant_id"], "market": o["market"], "score": rng.randint(0, 10),
                    "comment": "", "created_at": answered, "updated_at": answered})
        if delivered and csat_rng.random() < 0.5:
            answered = delivered + timedelta(hours=csat_rng.uniform(0.5, 72))
            if answered <= now:
                o = rows["orders"][-1]
                rows["csat_responses"].append({
                    "response_id": f"c-{oid}", "order_id": oid if csat_rng.random() < 0.9 else None,
                    "merchant_id": o["merchant_id"] if csat_rng.random() < 0.8 else None,
                    "market": o["market"], "score": csat_rng.choice((1, 2, 3, 4, 4, 5, 5, 5, 0, 6)),
                    "comment": "", "created_at": answered, "updated_at": answered})
    return rows


def load(db, rows: dict[str, list[dict]]) -> None:
    """Insert the rows through the real schema with bound parameters, in one transaction."""
    cur = db.cursor()
    cur.execute("begin")
    for table, records in rows.items():
        if not records:
            continue
        cols = list(dict.fromkeys(c for r in records for c in r))  # every column any row sets
        # table and column names come from this module's constants, never from input
        sql = f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        cur.executemany(sql, [[r.get(c) for c in cols] for r in records])
    derived.rebuild(cur)  # rows written straight into the tables: the rollups are recomputed
    cur.execute("commit")


# ── reading raw tables ──────────────────────────────────────────────────────────────────────────
def tables(db) -> dict[str, pd.DataFrame]:
    """The raw tables as DataFrames (timestamps as aware UTC)."""
    return {t: db.df(f"select * from {t}") for t in TABLES}


def _window(p: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(p["start"]) if p.get("start") is not None else pd.Timestamp.min.tz_localize(UTC)
    ends = [pd.Timestamp(x) for x in (p.get("end"), p.get("now")) if x is not None]
    return start, min(ends)


def _in(series: pd.Series, lo, hi) -> pd.Series:
    return series.notna() & (series >= lo) & (series < hi)


def _match(df: pd.DataFrame, column: str, wanted) -> pd.Series:
    return pd.Series(True, index=df.index) if wanted is None else (df[column] == wanted).fillna(False)


def orders_with_delivery(t: dict) -> pd.DataFrame:
    """Each order with its newest outbound shipment (by updated_at, then shipment id)."""
    s = t["shipments"]
    s = s[(s["direction"] == "outbound") & s["order_id"].notna()]
    s = s.sort_values(["updated_at", "shipment_id"]).groupby("order_id").tail(1)
    s = s[["order_id", "carrier", "shipped_at", "delivered_at"]]
    return t["orders"].merge(s, on="order_id", how="left")


def _order_filters(o: pd.DataFrame, p: dict) -> pd.Series:
    keep = _match(o, "merchant_id", p.get("merchant")) & _match(o, "channel", p.get("channel"))
    keep &= _match(o, "market", p.get("market")) & _match(o, "warehouse_id", p.get("warehouse"))
    if "carrier" in o:
        keep &= _match(o, "carrier", p.get("carrier"))
    return keep


def _result(value, n) -> tuple[float | None, int]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, int(n)
    return float(value), int(n)


def _delivered(t: dict, p: dict) -> pd.DataFrame:
    start, as_of = _window(p)
    o = orders_with_delivery(t)
    return o[_in(o["delivered_at"], start, as_of) & _order_filters(o, p)]


def _returned_ids(t: dict, as_of, reasons=None) -> set:
    r = t["returns"]
    keep = (r["created_at"] < as_of) & (r["status"].fillna("") != "rejected")
    if reasons:
        keep &= r["reason"].isin(reasons)
    return set(r.loc[keep, "order_id"])


# ── the KPIs ────────────────────────────────────────────────────────────────────────────────────
def on_time_rate(t: dict, p: dict):
    d = _delivered(t, p)
    d = d[d["promised_delivery_at"].notna()]
    if d.empty:
        return None, 0
    return _result(100.0 * (d["delivered_at"] <= d["promised_delivery_at"]).mean(), len(d))


def _answers(t: dict, p: dict, table: str, low: int, high: int) -> pd.DataFrame:
    """Survey answers received in the window on the survey's scale, with the surveyed order's
    dimensions where the answer does not carry its own merchant or market."""
    start, as_of = _window(p)
    r = t[table].merge(
        orders_with_delivery(t)[["order_id", "merchant_id", "market", "channel", "warehouse_id", "carrier"]],
        on="order_id", how="left", suffixes=("", "_order"))
    r["merchant_id"] = r["merchant_id"].fillna(r["merchant_id_order"])
    r["market"] = r["market"].fillna(r["market_order"])
    return r[_in(r["created_at"], start, as_of) & r["score"].between(low, high) & _order_filters(r, p)]


def nps(t: dict, p: dict):
    r = _answers(t, p, "nps_responses", 0, 10)
    if r.empty:
        return None, 0
    return _result(100.0 * ((r["score"] >= 9).mean() - (r["score"] <= 6).mean()), len(r))


def csat(t: dict, p: dict):
    """% of 1–5 answers that are 4 or 5 (scores off the scale are left out)."""
    r = _answers(t, p, "csat_responses", 1, 5)
    if r.empty:
        return None, 0
    return _result(100.0 * (r["score"] >= 4).mean(), len(r))


def otif(t: dict, p: dict):
    """On time and in full: delivered by the promise, no wrong-item/damaged return opened by then."""
    d = _delivered(t, p)
    d = d[d["promised_delivery_at"].notna()]
    if d.empty:
        return None, 0
    _, as_of = _window(p)
    bad = _returned_ids(t, as_of, reasons=("wrong_item", "damaged"))
    ok = (d["delivered_at"] <= d["promised_delivery_at"]) & ~d["order_id"].isin(bad)
    return _result(100.0 * ok.mean(), len(d))


def return_rate(t: dict, p: dict):
    d = _delivered(t, p)
    if d.empty:
        return None, 0
    _, as_of = _window(p)
    return _result(100.0 * d["order_id"].isin(_returned_ids(t, as_of)).mean(), len(d))


def order_accuracy(t: dict, p: dict):
    start, as_of = _window(p)
    o = orders_with_delivery(t)
    shipped = o["shipped_at"].fillna(o["fulfilled_at"])
    o = o[_in(shipped, start, as_of) & _order_filters(o, p)]
    if o.empty:
        return None, 0
    bad = o["order_id"].isin(_returned_ids(t, as_of, ("wrong_item", "damaged")))
    return _result(100.0 * (1 - bad.mean()), len(o))


def delivery_speed(t: dict, p: dict, q: float):
    d = _delivered(t, p)
    d = d[d["created_at"].notna()]
    if d.empty:
        return None, 0
    hours = (d["delivered_at"] - d["created_at"]).dt.total_seconds() / 3600.0
    return _result(float(np.quantile(hours.to_numpy(), q)), len(d))  # numpy default = linear


def _stock_as_of(t: dict, p: dict, as_of) -> pd.DataFrame:
    s = t["stock_observations"]
    s = s[s["observed_at"] < as_of].sort_values("observed_at").groupby(["sku", "warehouse_id"]).tail(1)
    s = s.merge(t["warehouses"][["warehouse_id", "market"]], on="warehouse_id", how="left")
    return s[_match(s, "market", p.get("market")) & _match(s, "warehouse_id", p.get("warehouse"))]


def _sold_lines(t: dict, lo, hi) -> pd.DataFrame:
    o = t["orders"]
    o = o[_in(o["created_at"], lo, hi) & (o["cancelled_at"].isna() | (o["cancelled_at"] >= hi))]
    return t["order_lines"].merge(o, on="order_id")


def days_of_supply(t: dict, p: dict):
    _, as_of = _window(p)
    stock = _stock_as_of(t, p, as_of)
    sold = _sold_lines(t, as_of - pd.Timedelta(days=7), as_of)
    sold = sold.merge(stock[["sku", "warehouse_id"]], on=["sku", "warehouse_id"])  # known pairs only
    units = int(sold["quantity"].sum())
    if units == 0:
        return None, 0
    return _result(stock["available"].clip(lower=0).sum() / (units / 7.0), units)


def hours_to_stockout(t: dict, p: dict):
    _, as_of = _window(p)
    stock = _stock_as_of(t, p, as_of)
    pace = (_sold_lines(t, as_of - pd.Timedelta(hours=4), as_of)
            .groupby(["sku", "warehouse_id"], as_index=False)["quantity"].sum())
    pairs = stock.merge(pace, on=["sku", "warehouse_id"])
    pairs = pairs[(pairs["available"] > 0) & (pairs["quantity"] > 0)]
    if pairs.empty:
        return None, 0
    return _result((pairs["available"] / (pairs["quantity"] / 4.0)).min(), len(pairs))


def sales_vs_forecast(t: dict, p: dict):
    start, as_of = _window(p)
    sold = _sold_lines(t, start, as_of)
    sold = sold[_match(sold, "market", p.get("market"))]
    f = t["forecasts"]
    f = f[_match(f, "market", p.get("market"))]
    # the part of each forecast hour that lies inside [start, as_of)
    lo = f["period_start"].where(f["period_start"] > start, start)
    end = f["period_start"] + pd.Timedelta(hours=1)
    hi = end.where(end < as_of, as_of)
    overlap = ((hi - lo).dt.total_seconds() / 3600.0).clip(lower=0)
    forecast = float((f["units"] * overlap).sum())
    units = int(sold["quantity"].sum())
    if forecast == 0:
        return None, units
    return _result(100.0 * units / forecast, units)


def fill_rate(t: dict, p: dict):
    start, as_of = _window(p)
    o = t["orders"]
    o = o[_in(o["created_at"], start, as_of) & _order_filters(o, p)]
    shipped = o["fulfilled_at"].notna() & (o["fulfilled_at"] < as_of)
    cancelled = o["cancelled_at"].notna() & (o["cancelled_at"] < as_of)
    young = o["created_at"] >= as_of - pd.Timedelta(hours=48)
    o = o.assign(shipped=shipped)[shipped | cancelled | ~young]
    lines = t["order_lines"].merge(o[["order_id", "shipped"]], on="order_id")
    units = int(lines["quantity"].sum())
    if units == 0:
        return None, 0
    return _result(100.0 * lines.loc[lines["shipped"], "quantity"].sum() / units, units)


REFERENCE = {
    "on_time_rate": on_time_rate,
    "nps": nps,
    "csat": csat,
    "otif": otif,
    "return_rate": return_rate,
    "order_accuracy": order_accuracy,
    "delivery_speed_p50_hours": lambda t, p: delivery_speed(t, p, 0.5),
    "delivery_speed_p90_hours": lambda t, p: delivery_speed(t, p, 0.9),
    "days_of_supply": days_of_supply,
    "hours_to_stockout": hours_to_stockout,
    "sales_vs_forecast": sales_vs_forecast,
    "fill_rate": fill_rate,
}
