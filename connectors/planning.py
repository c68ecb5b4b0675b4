"""Planning CSVs (an ERP / planning-sheet export) → `skus`, `warehouses`, `nodes`, `forecasts`,
`stock_policies`, `events`.

`GET <base_url>/<name>.csv` with a bearer token, a header row whose names are the table's columns.
Every file is read whole each run (they are small and carry no change filter) except forecasts, read
for the window now − 8 d … now + 2 d (`?from=&to=`), enough for the retro baseline and the next
two days of plan. Unchanged rows write nothing. Timestamps without an offset are UTC. A row that
fails validation is rejected with its file and line; the rest of the file is kept. Events are
stored with `source = 'planning'`.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Optional

from pydantic import ValidationError, field_validator

from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import country_code, iso_z


class _Row(Record):
    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if isinstance(v, str) and not v.strip() else v


class SkuRow(_Row):
    sku: str
    name: Optional[str] = None
    sku_class: Optional[str] = None
    unit_cost: Optional[Decimal] = None
    unit_price: Optional[Decimal] = None
    currency: Optional[str] = None
    inventory_item_id: Optional[int] = None
    updated_at: Optional[Instant] = None


class WarehouseRow(_Row):
    warehouse_id: str
    location_id: Optional[int] = None
    name: Optional[str] = None
    kind: Optional[str] = None
    market: Optional[str] = None
    country: Optional[str] = None
    city: Optional[str] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    updated_at: Optional[Instant] = None


class NodeRow(_Row):
    node_id: str
    name: Optional[str] = None
    kind: Optional[str] = None
    country: Optional[str] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    status: Optional[str] = None
    updated_at: Optional[Instant] = None


class ForecastRow(_Row):
    sku: str
    market: str
    period_start: Instant
    units: float
    updated_at: Optional[Instant] = None


class StockPolicyRow(_Row):
    sku: str
    warehouse_id: str
    safety_qty: Optional[int] = None
    warning_qty: Optional[int] = None
    limit_qty: Optional[int] = None
    updated_at: Optional[Instant] = None


class EventRow(_Row):
    event_id: str
    name: Optional[str] = None
    starts_at: Instant
    ends_at: Optional[Instant] = None
    kind: Optional[str] = None
    updated_at: Optional[Instant] = None


# file name → (row model, target table); columns map one to one.
FILES = {
    "skus": (SkuRow, "skus"),
    "warehouses": (WarehouseRow, "warehouses"),
    "nodes": (NodeRow, "nodes"),
    "stock_policies": (StockPolicyRow, "stock_policies"),
    "events": (EventRow, "events"),
    "forecasts": (ForecastRow, "forecasts"),
}
COUNTRY_COLUMNS = ("country", "market")


class PlanningSource(Source):
    kind = "planning"
    tables = (
        Table("skus", ("sku",), "merge"),
        Table("warehouses", ("warehouse_id",), "merge"),
        Table("nodes", ("node_id",), "merge"),
        Table("stock_policies", ("sku", "warehouse_id"), "merge"),
        Table("events", ("event_id",), "merge"),
        Table("forecasts", ("sku", "market", "period_start"), "merge"),
    )

    def http_headers(self, secret):
        return {"Authorization": f"Bearer {secret or ''}", "Accept": "text/csv"}

    def extract(self, run: Run, http: Http) -> None:
        base = self.options["base_url"].rstrip("/")
        hour = run.now.replace(minute=0, second=0, microsecond=0)
        window = {"from": iso_z(hour - timedelta(days=8)), "to": iso_z(hour + timedelta(days=2))}
        for name, (model, table) in FILES.items():
            run.check_cancel()
            text, _ = http.get_text(f"{base}/{name}.csv", window if name == "forecasts" else None)
            self._load(run, name, text, model, table)

    @staticmethod
    def _load(run: Run, name: str, text: str, model, table: str) -> None:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if not reader.fieldnames:
            raise ValueError(f"{name}.csv is empty (no header row)")
        for raw in reader:
            if not any((v or "").strip() for k, v in raw.items() if k):
                continue
            try:
                if None in raw:
                    raise ValueError("too many cells")
                rec = model.model_validate({k.strip(): v for k, v in raw.items()})
            except ValidationError as e:
                first = e.errors(include_input=False, include_url=False)[0]
                run.saw(1)
                run.reject(f"{name}.csv line {reader.line_num}",
                           f"{'.'.join(map(str, first['loc']))}: {first['msg']}")
                continue
            except ValueError as e:
                run.saw(1)
                run.reject(f"{name}.csv line {reader.line_num}", str(e))
                continue
            row = rec.model_dump()
            for col in COUNTRY_COLUMNS:
                if col in row:
                    row[col] = country_code(row[col])
            if table == "events":
                row["source"] = "planning"
            run.saw(1, row.get("updated_at"))
            run.emit(table, row)

