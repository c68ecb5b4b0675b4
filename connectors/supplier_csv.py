"""Supplier progress CSV (a shared link or a local file) → `purchase_orders` + `po_progress`.

The file is the supplier's current state, one row per PO:
`po_number,sku,quantity_ordered,quantity_produced,quantity_qc_passed,quantity_shipped,
promised_ship_date,status,updated_at`, with `updated_at` as `YYYY-MM-DD HH:MM` local wall time in the
zone named by a leading `# timezone: Asia/Shanghai` comment (else the `timezone` option, else UTC).
`promised_ship_date` is a calendar date, stored at 00:00 UTC like the portal's. The supplier code is the
`supplier_id` option, else the folder of the URL (`…/supplier-files/PRINT3D-LA/progress.csv`).

Every run reads the whole file (it is small and has no change filter); unchanged rows write nothing
(the upsert skips identical rows). A malformed row is rejected with its line number, the rest kept.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from connectors.base import Http, Run, Source, Table
from connectors.supplier_portal import PurchaseOrder, emit_po
from connectors.timezones import parse_instant

_TZ_COMMENT = re.compile(r"^#\s*timezone\s*:\s*(\S+)", re.IGNORECASE)
REQUIRED = ("po_number", "updated_at")


def split_preamble(text: str) -> tuple[str | None, str, int]:
    """The zone named in leading `#` comment lines, the CSV body without those lines, and how many
    lines were skipped (to report file line numbers)."""
    zone, lines = None, text.lstrip("\ufeff").splitlines(keepends=True)
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        match = _TZ_COMMENT.match(lines[i])
        if match:
            zone = match.group(1)
        i += 1
    return zone, "".join(lines[i:]), i


def parse_row(row: dict, zone: ZoneInfo) -> PurchaseOrder:
    """A CSV row as a PurchaseOrder report; raises ValueError/ValidationError for a bad row."""
    clean = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
    for name in REQUIRED:
        if not clean.get(name):
            raise ValueError(f"{name} is empty")
    if None in row and any(row[None]):  # more cells than header columns
        raise ValueError("too many cells")
    data = {k: v for k, v in clean.items() if v not in (None, "")}
    data["updated_at"] = parse_instant(clean["updated_at"], zone)
    return PurchaseOrder.model_validate(data)


class SupplierCsvSource(Source):
    kind = "supplier_csv"
    tables = (
        Table("purchase_orders", ("po_id",), "merge"),
        Table("po_progress", ("po_id", "observed_at"), "append", None),
    )

    def location(self) -> str:
        loc = self.options.get("url") or self.options.get("path")
        if not loc:
            raise ValueError("supplier_csv needs `url` or `path`")
        return str(loc)

    def supplier_id(self) -> str | None:
        if self.options.get("supplier_id"):
            return str(self.options["supplier_id"])
        parts = [p for p in urlparse(self.location()).path.split("/") if p]
        return unquote(parts[-2]) if len(parts) >= 2 else None

    def http_headers(self, secret):
        # Shared links usually need nothing; a token, when configured, goes as a bearer token.
        return {"Authorization": f"Bearer {secret}"} if secret and not self.cfg.uses_sandbox else {}

    def read(self, http: Http) -> str:
        loc = self.location()
        scheme = urlparse(loc).scheme
        if scheme in ("http", "https"):
            text, _ = http.get_text(loc)
            return text
        path = Path(unquote(urlparse(loc).path)) if scheme == "file" else Path(loc)
        return path.read_text(encoding="utf-8-sig")

    def extract(self, run: Run, http: Http) -> None:
        zone_name, body, skipped = split_preamble(self.read(http))
        zone_name = zone_name or self.options.get("timezone") or "UTC"
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone in supplier CSV: {zone_name[:40]}") from None
        supplier = self.supplier_id()
        reader = csv.DictReader(io.StringIO(body))
        if not reader.fieldnames or "po_number" not in [f.strip() for f in reader.fieldnames]:
            raise ValueError("supplier CSV has no header row with po_number")
        for row in reader:
            line = reader.line_num + skipped
            if not any((v or "").strip() for k, v in row.items() if k):
                continue
            try:
                po = parse_row(row, zone)
            except ValidationError as e:
                first = e.errors(include_input=False, include_url=False)[0]
                run.saw(1)
                run.reject(f"CSV line {line}", f"{'.'.join(map(str, first['loc']))}: {first['msg']}")
                continue
            except ValueError as e:
                run.saw(1)
                run.reject(f"CSV line {line}", str(e)[:120])
                continue
            run.saw(1, po.updated_at)
            emit_po(run, po, "supplier_csv", supplier)

