"""Planning CSVs (the kind of export a planning sheet or ERP offers): `GET /planning/{name}.csv`,
bearer token, a header row, timestamps ISO-8601 UTC (`…Z`), one file per table."""

from __future__ import annotations

from datetime import datetime

from sandbox.formats.base import Query, Reply, csv_reply, iso_z


def unauthorized() -> Reply:
    return Reply(
        401,
        csv_rows=[["error"], ["missing or invalid bearer token"]],
        headers={"WWW-Authenticate": 'Bearer realm="planning"'},
    )


def rate_limited() -> Reply:
    return Reply(429, csv_rows=[["error"], ["too many requests"]], headers={"Retry-After": "1"})


def bad_request(exc) -> Reply:
    return Reply(400, csv_rows=[["error"], [f"{exc.param}: {exc.message}"]])


def _num(value: float) -> str:
    return f"{value:.6g}"


def skus(world, now: datetime, q: Query) -> Reply:
    return csv_reply(
        ("sku", "name", "sku_class", "unit_cost", "unit_price", "currency", "inventory_item_id",
         "updated_at"),
        (
            (
                s.sku,
                s.name,
                s.sku_class,
                f"{s.unit_cost:.2f}",
                f"{s.unit_price:.2f}",
                "USD",                           # the planning sheet's costs and list prices
                s.inventory_item_id,
                iso_z(s.updated_at),
            )
            for s in sorted(world.skus, key=lambda s: s.sku)
        ),
    )


def warehouses(world, now: datetime, q: Query) -> Reply:
    return csv_reply(
        (
            "warehouse_id",
            "location_id",
            "name",
            "kind",
            "market",
            "country",
            "city",
            "lat",
            "lon",
            "updated_at",
        ),
        (
            (
                w.warehouse_id,
                w.location_id,
                w.name,
                w.kind,
                w.market,
                w.country,
                w.city,
                _num(w.lat),
                _num(w.lon),
                iso_z(w.updated_at),
            )
            for w in sorted(world.warehouses, key=lambda w: w.warehouse_id)
        ),
    )


def nodes(world, now: datetime, q: Query) -> Reply:
    return csv_reply(
        ("node_id", "name", "kind", "country", "lat", "lon", "status", "updated_at"),
        (
            (n.node_id, n.name, n.kind, n.country, _num(n.lat), _num(n.lon), n.status, iso_z(n.updated_at))
            for n in sorted(world.nodes(now), key=lambda n: n.node_id)
        ),
    )


def forecasts(world, now: datetime, q: Query) -> Reply:
    lo, hi = q.time("from"), q.time("to")
    # the world bounds the range itself (plans are published two days ahead, never past that)
    rows = [f for f in world.forecasts(now, lo, hi) if hi is None or f.period_start < hi]
    rows.sort(key=lambda f: (f.period_start, f.sku, f.market))
    return csv_reply(
        ("sku", "market", "period_start", "units", "updated_at"),
        ((f.sku, f.market, iso_z(f.period_start), _num(f.units), iso_z(f.updated_at)) for f in rows),
    )


def stock_policies(world, now: datetime, q: Query) -> Reply:
    rows = sorted(world.stock_policies(now), key=lambda p: (p.sku, p.warehouse_id))
    return csv_reply(
        ("sku", "warehouse_id", "safety_qty", "warning_qty", "limit_qty", "updated_at"),
        (
            (p.sku, p.warehouse_id, p.safety_qty, p.warning_qty, p.limit_qty, iso_z(p.updated_at))
            for p in rows
        ),
    )


def events(world, now: datetime, q: Query) -> Reply:
    rows = sorted(world.events(now), key=lambda e: (e.starts_at, e.event_id))
    return csv_reply(
        ("event_id", "name", "starts_at", "ends_at", "kind", "updated_at"),
        (
            (e.event_id, e.name, iso_z(e.starts_at), iso_z(e.ends_at), e.kind, iso_z(e.updated_at))
            for e in rows
        ),
    )


ENDPOINTS = {
    "skus": skus,
    "warehouses": warehouses,
    "nodes": nodes,
    "forecasts": forecasts,
    "stock_policies": stock_policies,
    "events": events,
}
