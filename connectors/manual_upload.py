"""Manual upload of the 3PL's stock sheet and the supplier's progress sheet, for when an API is down
(issue 11, the "digital black box" drill).

`check(data, file_name, kind, db, zone=, now=)` reads the sheet (connectors.sheets) and validates
EVERY row with pydantic: known SKU and warehouse, whole non-negative units (see sheets.units for the
documented conversions), dates (sheets.instant: the time-zone policy), no duplicate keys, nothing in
the future. It returns a `Report` with one error per bad cell, by file row number.

`load(db, report, uploader=, now=, within=)` then writes it (tower.uploads.upload wraps both with the
"operate" permission check and the audit row, which this source layer may not import):
- a sheet with any invalid row loads nothing; the rejection is recorded (uploads, sync_runs);
- a valid sheet is loaded in ONE transaction with its uploads row, its provenance (manual_rows:
  rows this sheet wrote first) and its audit row: all or nothing;
- the same file (SHA-256) loaded before changes nothing (status duplicate); the same rows in another
  file change nothing either (natural-key upserts).
Each upload is recorded as a run of the source `upload:stock` / `upload:supplier` in sync_runs, so
the Sources page shows it beside the API connectors.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

import queries
from connectors import sheets
from connectors.records import Table, sql as connector_sql
from connectors.runs import _WRITE_LOCK
from connectors.writes import to_arrow, upsert

# Columns of each sheet: the templates' header, in order. Required ones must be present.
STOCK_COLUMNS = ("sku", "warehouse", "available", "counted_at")
SUPPLIER_COLUMNS = ("po_number", "sku", "quantity_ordered", "quantity_produced", "quantity_qc_passed",
                    "quantity_shipped", "promised_ship_date", "status", "updated_at")
COLUMNS = {"stock": STOCK_COLUMNS, "supplier": SUPPLIER_COLUMNS}
REQUIRED = {"stock": STOCK_COLUMNS, "supplier": ("po_number", "updated_at")}
# Headers Chinese 3PLs and factories write, accepted as the English column.
ALIASES = {
    "货号": "sku", "商品编码": "sku", "仓库": "warehouse", "仓库编码": "warehouse", "可用库存": "available",
    "可用数量": "available", "盘点时间": "counted_at", "采购单号": "po_number", "订单数量": "quantity_ordered",
    "已生产": "quantity_produced", "质检合格": "quantity_qc_passed", "已发货": "quantity_shipped",
    "承诺发货日期": "promised_ship_date", "状态": "status", "更新时间": "updated_at",
}
PO_STATUSES = ("open", "in_production", "shipped", "closed", "cancelled")
FUTURE_SLACK = timedelta(hours=1)   # clocks differ a little; a count hours ahead is a typo
MAX_REPORTED = 200                  # errors kept per sheet (the count says how many in all)

STOCK_TABLE = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)
PO_TABLE = Table("purchase_orders", ("po_id",), "merge")
PROGRESS_TABLE = Table("po_progress", ("po_id", "observed_at"), "append", None)
SOURCE = {"stock": "upload:stock", "supplier": "upload:supplier"}


class RowError(BaseModel):
    row: int                        # the row number in the file (CSV line / Excel row)
    column: str                     # the column at fault ("" for the whole row)
    error: str                      # in English words
    code: str = ""                  # what kind of problem (locale key uploads.err_<code>)
    params: dict = {}               # the values the words name


@dataclass
class Report:
    kind: str
    file_name: str
    sha256: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    records: list = field(default_factory=list)     # validated rows (StockRow | SupplierRow)
    status: str = "checked"         # checked | loaded | rejected | duplicate
    rows_written: int = 0
    upload_id: int | None = None
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, row: int, column: str, error: str, code: str = "", **params) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(row=row, column=column, error=error, code=code,
                                        params={k: str(v) for k, v in params.items()}))

    def problem(self, row: int, column: str, e: Exception) -> None:
        self.add(row, column, str(e), getattr(e, "code", ""), **getattr(e, "params", {}))


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StockRow(_Row):
    sku: str
    warehouse_id: str
    available: int
    counted_at: datetime


class SupplierRow(_Row):
    po_number: str
    sku: Optional[str] = None
    quantity_ordered: Optional[int] = None
    quantity_produced: Optional[int] = None
    quantity_qc_passed: Optional[int] = None
    quantity_shipped: Optional[int] = None
    promised_ship_date: Optional[datetime] = None
    status: Optional[str] = None
    updated_at: datetime

    @field_validator("status")
    @classmethod
    def _known_status(cls, v: str | None) -> str | None:
        if v is not None and v not in PO_STATUSES:
            raise sheets.Problem("bad_status", f"'{v[:20]}' is not a PO status ({', '.join(PO_STATUSES)})",
                                 value=v[:20], allowed=", ".join(PO_STATUSES))
        return v


def normalise(name) -> str:
    text = str(name or "").strip().lstrip("\ufeff").strip()
    return ALIASES.get(text, text.lower().replace(" ", "_").replace("-", "_"))


def template(kind: str) -> bytes:
    """The CSV template of a sheet: its header and one example row (UTF-8 with BOM, so Excel reads it)."""
    example = {"stock": "SKU-001,US-WEST-LA,120,2026-12-04 09:30",
               "supplier": "PO-1001,SKU-001,5000,3200,3000,0,2026-12-20,in_production,2026-12-04 09:30"}
    header = "# timezone: UTC\n" + ",".join(COLUMNS[kind]) + "\n"
    return ("\ufeff" + header + example[kind] + "\n").encode("utf-8")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise sheets.SheetError("unknown_zone", f"unknown time zone '{str(name)[:40]}' (use an IANA name such as "
                                "Asia/Shanghai)", zone=str(name)[:40]) from None


def _known(db) -> tuple[dict[str, str], dict[str, str]]:
    """SKU codes and warehouse codes/names, upper-cased → the stored code."""
    with db.cursor() as cur:
        skus = {r[0].upper(): r[0] for r in cur.execute(queries.load("uploads/known_skus")).fetchall()}
        houses = {}
        for wid, name in cur.execute(queries.load("uploads/known_warehouses")).fetchall():
            houses[wid.upper()] = wid
            if name:
                houses.setdefault(name.strip().upper(), wid)
    return skus, houses


def check(data: bytes, file_name: str, kind: str, db, *, now: datetime, zone: str | None = None) -> Report:
    """Read and validate every row of a sheet (see the module docstring). Never raises for bad input."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown sheet kind {kind!r}")
    report = Report(kind, file_name, hashlib.sha256(data or b"").hexdigest())
    try:
        sheet = sheets.read(data or b"", file_name)
        tz = _zone(sheet.zone or zone)
    except sheets.SheetError as e:
        report.problem(0, "", e)
        return report
    columns = [normalise(h) for h in sheet.header]
    expected = ", ".join(COLUMNS[kind])
    missing = [c for c in REQUIRED[kind] if c not in columns]
    unknown = [h for h, c in zip(sheet.header, columns) if c and c not in COLUMNS[kind]]
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if missing or unknown or doubled:
        parts = [f"missing {', '.join(missing)}" if missing else "",
                 f"unknown {', '.join(str(u)[:30] for u in unknown)}" if unknown else "",
                 f"repeated {', '.join(doubled)}" if doubled else ""]
        report.add(1, "", f"wrong columns ({'; '.join(p for p in parts if p)}): "
                          f"the {kind} sheet needs the columns {expected}", "wrong_columns",
                   missing=", ".join(missing) or "—", unknown=", ".join(str(u)[:30] for u in unknown) or "—",
                   repeated=", ".join(doubled) or "—", expected=expected)
        return report
    if not sheet.rows:
        report.add(0, "", "the sheet has a header but no rows", "no_rows")
        return report
    skus, houses = _known(db)
    seen: dict[tuple, int] = {}
    for number, cells in sheet.rows:
        report.rows += 1
        if len(cells) > len(columns) and any(str(c or "").strip() for c in cells[len(columns):]):
            report.add(number, "", f"more cells than the {len(columns)} columns", "too_many_cells", n=len(columns))
            continue
        cells = {c: v for c, v in zip(columns, cells) if c}
        record = _validate_row(report, number, cells, kind, tz, skus, houses, now)
        if record is None:
            continue
        key = _key(record)
        if key in seen:
            same = "sku, warehouse, counted_at" if kind == "stock" else "po_number, updated_at"
            report.add(number, "", f"duplicates row {seen[key]} (same {same})", "duplicate", first=seen[key], columns=same)
            continue
        seen[key] = number
        report.records.append(record)
    return report


def _validate_row(report, number, cells, kind, tz, skus, houses, now):
    values, bad = {}, False
    for column, raw in cells.items():
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if blank:
            continue
        try:
            values[column] = _convert(column, raw, tz)
        except ValueError as e:
            report.problem(number, column, e)
            bad = True
    for column in REQUIRED[kind]:
        if column not in values and not any(e.row == number and e.column == column for e in report.errors):
            report.add(number, column, "empty", "empty")
            bad = True
    if values.get("sku") is not None:
        code = skus.get(str(values["sku"]).strip().upper())
        if code is None:
            report.add(number, "sku", f"unknown SKU '{str(values['sku'])[:40]}'", "unknown_sku",
                       value=str(values["sku"])[:40])
            bad = True
        values["sku"] = code
    if kind == "stock" and values.get("warehouse") is not None:
        code = houses.get(str(values.pop("warehouse")).strip().upper())
        if code is None:
            name = str(cells["warehouse"]).strip()[:40]
            report.add(number, "warehouse", f"unknown warehouse '{name}'", "unknown_warehouse", value=name)
            bad = True
        values["warehouse_id"] = code
    when = values.get("counted_at") or values.get("updated_at")
    if isinstance(when, datetime) and when > now + FUTURE_SLACK:
        report.add(number, "counted_at" if kind == "stock" else "updated_at", "in the future", "future")
        bad = True
    if bad:
        return None
    try:
        return (StockRow if kind == "stock" else SupplierRow).model_validate(values)
    except ValidationError as e:
        for err in e.errors(include_input=False, include_url=False):
            ctx = err.get("ctx") or {}
            cause = ctx.get("error")
            report.add(number, ".".join(str(x) for x in err["loc"]), str(cause or err["msg"]),
                       getattr(cause, "code", ""), **getattr(cause, "params", {}))
        return None


def _convert(column: str, raw, tz: ZoneInfo):
    if column in ("available",) or column.startswith("quantity_"):
        return sheets.units(raw)
    if column in ("counted_at", "updated_at"):
        return sheets.instant(raw, tz)
    if column == "promised_ship_date":  # a calendar day, stored at 00:00 UTC like the connectors'
        return sheets.instant(raw, ZoneInfo("UTC"), date_only_ok=True)
    text = str(raw).strip()
    if column == "status":
        return text.lower().replace(" ", "_")
    if isinstance(raw, float) and raw == int(raw):  # Excel turns a numeric code into 1001.0
        text = str(int(raw))
    return text


def _key(record) -> tuple:
    if isinstance(record, StockRow):
        return (record.sku, record.warehouse_id, record.counted_at)
    return (record.po_number, record.updated_at)


def _row_key(*parts) -> str:
    return "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)


# ── loading ─────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Uploader:
    subject: str                    # audit actor id (OIDC subject or "local")
    name: str                       # as shown on screen


def load(db, report: Report, *, uploader: Uploader, now: datetime,
         within: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None) -> Report:
    """Write a checked sheet all or nothing and record the run (see the module docstring).
    `within(cur, upload_id)` runs inside the loading transaction (the audit row)."""
    cur = db.cursor()
    try:
        run_id = cur.execute(connector_sql("run_start"), {"source": SOURCE[report.kind], "started_at": now}).fetchone()[0]
        try:
            if not report.ok:
                report.status = "rejected"
                _record_upload(cur, report, uploader, now, run_id)
            else:
                _load(cur, report, uploader, now, run_id, within)
        finally:
            _finish_run(cur, report, run_id, now)
    finally:
        cur.close()
    return report


def _load(cur, report: Report, uploader: Uploader, now, run_id, within) -> None:
    earlier = cur.execute(queries.load("uploads/loaded_by_sha"),
                          {"kind": report.kind, "sha256": report.sha256}).fetchone()
    if earlier:
        report.status, report.duplicate_of = "duplicate", int(earlier[0])
        return
    for attempt in range(3):
        with _WRITE_LOCK:
            cur.begin()
            try:
                report.status, report.rows_written = "loaded", 0
                upload_id = _record_upload(cur, report, uploader, now, run_id)
                report.rows_written = _write_rows(cur, report, upload_id)
                cur.execute(queries.load("uploads/set_written"),
                            {"upload_id": upload_id, "rows_written": report.rows_written})
                if within:
                    within(cur, upload_id)
                cur.commit()
                return
            except duckdb.TransactionException:
                cur.rollback()
                if attempt == 2:
                    report.status, report.upload_id, report.rows_written = "failed", None, 0
                    raise
            except BaseException:
                cur.rollback()
                report.status, report.upload_id, report.rows_written = "failed", None, 0
                raise


def _record_upload(cur, report: Report, uploader: Uploader, now, run_id) -> int:
    errors = [e.model_dump() for e in report.errors] if report.errors else None
    report.upload_id = int(cur.execute(queries.load("uploads/upload_insert"), {
        "kind": report.kind, "file_name": report.file_name[:200], "sha256": report.sha256,
        "rows": report.rows, "rows_written": report.rows_written, "uploaded_by": uploader.subject,
        "uploaded_by_name": uploader.name, "uploaded_at": now, "status": report.status, "run_id": run_id,
        "errors": json.dumps(errors, ensure_ascii=False) if errors else None}).fetchone()[0])
    return report.upload_id


def _write_rows(cur, report: Report, upload_id: int) -> int:
    """The rows, their provenance first (only keys not stored yet are marked manual)."""
    if report.kind == "stock":
        rows = [{"sku": r.sku, "warehouse_id": r.warehouse_id, "observed_at": r.counted_at,
                 "available": r.available} for r in report.records]
        _provenance(cur, "uploads/provenance_stock", upload_id,
                    [{**row, "row_key": _row_key(row["sku"], row["warehouse_id"], row["observed_at"])}
                     for row in rows])
        return upsert(cur, STOCK_TABLE, rows)
    progress, orders = [], []
    for r in report.records:
        order = {"po_id": r.po_number, "updated_at": r.updated_at}
        for column in ("sku", "quantity_ordered", "promised_ship_date", "status"):
            if column in r.model_fields_set and getattr(r, column) is not None:
                order[column] = getattr(r, column)
        orders.append(order)
        progress.append({"po_id": r.po_number, "observed_at": r.updated_at,
                         "quantity_produced": r.quantity_produced, "quantity_qc_passed": r.quantity_qc_passed,
                         "quantity_shipped": r.quantity_shipped, "status": r.status, "source": "manual_upload"})
    _provenance(cur, "uploads/provenance_po", upload_id,
                [{"po_id": p["po_id"], "observed_at": p["observed_at"],
                  "row_key": _row_key(p["po_id"], p["observed_at"])} for p in progress])
    return upsert(cur, PO_TABLE, orders) + upsert(cur, PROGRESS_TABLE, progress)


def _provenance(cur, query: str, upload_id: int, batch: list[dict]) -> None:
    cur.register("manual_batch", to_arrow(batch))
    try:
        cur.execute(queries.load(query), {"upload_id": upload_id})
    finally:
        cur.unregister("manual_batch")


def _finish_run(cur, report: Report, run_id: int, now: datetime) -> None:
    newest = max((_key(r)[-1] for r in report.records), default=None) if report.status == "loaded" else None
    error = None
    if report.status == "failed":
        error = "the upload could not be written; nothing was loaded"
    if report.status == "rejected":
        first = report.errors[0] if report.errors else None
        where = f"row {first.row}" + (f" {first.column}" if first and first.column else "") if first else ""
        error = (f"sheet {report.file_name[:60]} rejected, nothing loaded: {report.error_count} error(s); "
                 f"{where}: {first.error if first else ''}")[:300]
    cur.execute(connector_sql("run_finish"), {
        "run_id": run_id, "finished_at": now, "status": "failed" if report.status in ("rejected", "failed") else "ok",
        "rows_fetched": report.rows, "rows_written": report.rows_written,
        "rows_rejected": report.error_count if report.status == "rejected" else 0,
        "newest_record_at": newest, "error": error})
