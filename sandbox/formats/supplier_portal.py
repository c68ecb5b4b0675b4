"""Supplier portal v1 (defined by Tower, JSON) and the supplier progress CSV (a shared link).

Portal: `GET /supplier-portal/v1/suppliers`, `GET /supplier-portal/v1/purchase_orders?updated_since=
&page_size=&page_token=`, ordered by (updated_at, po_number), `updated_since` inclusive.
CSV: `GET /supplier-files/{code}/progress.csv`, one row per PO, `updated_at` in the supplier's local
wall time named by a leading `# timezone: …` comment line."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.formats.base import (
    BadRequest,
    Query,
    Reply,
    csv_reply,
    day,
    decode_token,
    iso_z,
    keyset_page,
    money,
    sort_key,
)
from sandbox.model import PurchaseOrder, Supplier

MAX_PAGE_SIZE = 500
_ZONES = {
    "VN": "Asia/Ho_Chi_Minh",
    "CN": "Asia/Shanghai",
    "US": "America/Los_Angeles",
    "MX": "America/Mexico_City",
    "IN": "Asia/Kolkata",
    "TH": "Asia/Bangkok",
    "ID": "Asia/Jakarta",
}
CSV_HEADER = (
    "po_number",
    "sku",
    "quantity_ordered",
    "quantity_produced",
    "quantity_qc_passed",
    "quantity_shipped",
    "promised_ship_date",
    "status",
    "updated_at",
)


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


def unauthorized() -> Reply:
    return error(401, "unauthorized", "missing or invalid bearer token")


def rate_limited() -> Reply:
    return Reply(
        429, {"error": {"code": "rate_limited", "message": "too many requests"}}, headers={"Retry-After": "1"}
    )


def bad_request(exc: BadRequest) -> Reply:
    return error(400, "invalid_parameter", f"{exc.param}: {exc.message}")


def supplier_zone(s: Supplier) -> str:
    return _ZONES.get(s.country, "UTC")


def supplier_json(s: Supplier) -> dict:
    return {
        "code": s.code,
        "name": s.name,
        "tier": s.tier,
        "country": s.country,
        "city": s.city,
        "lat": s.lat,
        "lon": s.lon,
        "lead_time_days": s.lead_time_days,
        "capacity_per_day": s.capacity_per_day,
        "updated_at": iso_z(s.updated_at),
    }


def po_json(p: PurchaseOrder) -> dict:
    return {
        "po_number": p.po_number,
        "supplier_code": p.supplier_code,
        "sku": p.sku,
        "destination_warehouse": p.warehouse_id,
        "quantity_ordered": p.quantity_ordered,
        "unit_cost": money(p.unit_cost),
        "currency": "USD",                       # suppliers invoice in US dollars
        "ordered_at": iso_z(p.ordered_at),
        "promised_ship_date": day(p.promised_ship_date),
        "quantity_produced": p.quantity_produced,
        "quantity_qc_passed": p.quantity_qc_passed,
        "quantity_shipped": p.quantity_shipped,
        "status": p.status,
        "updated_at": iso_z(p.updated_at),
    }


def suppliers(world, now: datetime, q: Query) -> Reply:
    rows = [supplier_json(s) for s in sorted(world.suppliers, key=lambda s: s.code) if s.updated_at <= now]
    return Reply(200, {"suppliers": rows}, records_path=("suppliers",))


def purchase_orders(world, now: datetime, q: Query) -> Reply:
    page_size = q.int("page_size", 100, hi=MAX_PAGE_SIZE)
    token = q.get("page_token")
    if token:
        state = decode_token(token, "page_token")
    else:
        since = q.time("updated_since")
        state = {
            "asof": now.isoformat(),
            "after": None,
            "f": {
                "updated_since": None if since is None else since.isoformat(),
                "supplier_code": q.get("supplier_code"),
            },
        }
    f = state["f"]
    since = None if f["updated_since"] is None else datetime.fromisoformat(f["updated_since"])
    asof = datetime.fromisoformat(state["asof"])
    rows = [
        p
        for p in world.purchase_orders(now)
        if (since is None or p.updated_at >= since)
        and p.updated_at <= asof
        and (f["supplier_code"] is None or p.supplier_code == f["supplier_code"])
    ]
    page = keyset_page(rows, lambda p: sort_key(p.updated_at, p.po_number), page_size, state)
    return Reply(
        200,
        {"purchase_orders": [po_json(p) for p in page.items], "next_page_token": page.next_token},
        records_path=("purchase_orders",),
    )


def progress_csv(world, now: datetime, supplier_code: str) -> Reply:
    supplier = next((s for s in world.suppliers if s.code == supplier_code), None)
    if supplier is None:
        return Reply(404, csv_rows=[["error"], [f"no shared file for supplier {supplier_code}"]])
    zone = supplier_zone(supplier)
    local = ZoneInfo(zone)
    pos = sorted(
        (p for p in world.purchase_orders(now) if p.supplier_code == supplier_code), key=lambda p: p.po_number
    )
    rows = [
        (
            p.po_number,
            p.sku,
            p.quantity_ordered,
            p.quantity_produced,
            p.quantity_qc_passed,
            p.quantity_shipped,
            day(p.promised_ship_date),
            p.status,
            p.updated_at.astimezone(local).strftime("%Y-%m-%d %H:%M"),
        )
        for p in pos
    ]
    return csv_reply(CSV_HEADER, rows, preamble=f"# timezone: {zone}\n")
