"""Supplier portal v1 (Tower's own JSON API): suppliers, purchase orders and their progress.

- `GET suppliers` (full list each run; small) → `suppliers` (merge).
- `GET purchase_orders?updated_since=&page_size=&page_token=` (incremental, cursor `purchase_orders`,
  `updated_since` inclusive, pages via `next_page_token`) → `purchase_orders` (merge, newest
  `updated_at` wins) and one `po_progress` row per report (append; key po × `updated_at`).
A `promised_ship_date` is a calendar date (the supplier's promise "ship by that day"); it is stored at
00:00 UTC of that date by both supplier connectors, so the portal and the CSV agree on it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Optional

from pydantic import field_validator

from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import country_code, iso_z, parse_instant


def day_or_instant(value, zone=timezone.utc) -> datetime | None:
    """A date (`YYYY-MM-DD`) as the start of that day in `zone`, or a timestamp as is."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone).astimezone(timezone.utc)
    return parse_instant(text, zone)


class Supplier(Record):
    code: str
    name: Optional[str] = None
    tier: Optional[str] = None
    country: Optional[str] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    lead_time_days: Optional[float] = None
    capacity_per_day: Optional[int] = None
    updated_at: Optional[Instant] = None


class PurchaseOrder(Record):
    po_number: str
    supplier_code: Optional[str] = None
    sku: Optional[str] = None
    destination_warehouse: Optional[str] = None
    quantity_ordered: Optional[int] = None
    unit_cost: Optional[Decimal] = None
    currency: Optional[str] = None
    ordered_at: Optional[Instant] = None
    promised_ship_date: Optional[datetime] = None
    quantity_produced: Optional[int] = None
    quantity_qc_passed: Optional[int] = None
    quantity_shipped: Optional[int] = None
    status: Optional[str] = None
    updated_at: Instant

    @field_validator("promised_ship_date", mode="before")
    @classmethod
    def _day(cls, v):
        return day_or_instant(v)

    @field_validator("po_number")
    @classmethod
    def _present(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty po_number")
        return v.strip()


# purchase_orders column ← PurchaseOrder field
PO_COLUMNS = {"po_id": "po_number", "supplier_id": "supplier_code", "sku": "sku",
              "warehouse_id": "destination_warehouse", "quantity_ordered": "quantity_ordered",
              "unit_cost": "unit_cost", "currency": "currency", "ordered_at": "ordered_at",
              "promised_ship_date": "promised_ship_date", "status": "status", "updated_at": "updated_at"}


def emit_po(run: Run, po: PurchaseOrder, source: str, supplier_id: str | None = None) -> None:
    """purchase_orders + po_progress rows for one PO report. Only the fields the report carries are
    written, so a CSV without costs does not blank the costs the portal sent."""
    row = {col: getattr(po, f) for col, f in PO_COLUMNS.items() if f in po.model_fields_set}
    if supplier_id:
        row["supplier_id"] = supplier_id
    run.emit("purchase_orders", row)
    run.emit("po_progress", {
        "po_id": po.po_number, "observed_at": po.updated_at,
        "quantity_produced": po.quantity_produced, "quantity_qc_passed": po.quantity_qc_passed,
        "quantity_shipped": po.quantity_shipped, "status": po.status, "source": source,
    })


class SupplierPortalSource(Source):
    kind = "supplier_portal"
    tables = (
        Table("suppliers", ("supplier_id",), "merge"),
        Table("purchase_orders", ("po_id",), "merge"),
        Table("po_progress", ("po_id", "observed_at"), "append", None),
    )

    def http_headers(self, secret):
        return {"Authorization": f"Bearer {secret or ''}"}

    def extract(self, run: Run, http: Http) -> None:
        base = self.options["base_url"].rstrip("/")
        body, _ = http.get_json(f"{base}/suppliers")
        if not isinstance(body, dict) or not isinstance(body.get("suppliers"), list):
            raise ValueError("unexpected supplier portal response: no suppliers list")
        for raw in body["suppliers"]:
            s = run.validate(Supplier, raw, f"supplier {_ident(raw, 'code')}")
            run.saw(1, s.updated_at if s else None)
            if s:
                run.emit("suppliers", {
                    "supplier_id": s.code, "name": s.name, "tier": s.tier, "country": country_code(s.country),
                    "lat": s.lat, "lon": s.lon, "lead_time_days": s.lead_time_days,
                    "capacity_per_day": s.capacity_per_day, "updated_at": s.updated_at})

        since = run.cursor_time("purchase_orders")
        params: dict = {"page_size": int(self.options.get("page_size", 500))}
        if since:
            params["updated_since"] = iso_z(since)
        newest = since
        while True:
            run.check_cancel()
            body, _ = http.get_json(f"{base}/purchase_orders", params)
            if not isinstance(body, dict) or not isinstance(body.get("purchase_orders"), list):
                raise ValueError("unexpected supplier portal response: no purchase_orders list")
            for raw in body["purchase_orders"]:
                po = run.validate(PurchaseOrder, raw, f"purchase order {_ident(raw, 'po_number')}")
                run.saw(1, po.updated_at if po else None)
                if po is None:
                    continue
                emit_po(run, po, "supplier_portal")
                newest = max(newest, po.updated_at) if newest else po.updated_at
            token = body.get("next_page_token")
            if not token:
                break
            params = {"page_size": params["page_size"], "page_token": token}
        if newest:
            run.set_cursor("purchase_orders", iso_z(newest))


def _ident(raw, key: str) -> str:
    return str(raw.get(key, "?"))[:40] if isinstance(raw, dict) else "?"
