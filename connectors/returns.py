"""AfterShip Returns (2025-07): `GET returns` → `returns`, one row per RMA × SKU.

Incremental on `updated_at` (cursor `returns`, inclusive re-read), pages via `data.pagination.
next_cursor` (the AfterShip envelope, shared with the tracking connector).
Mapping: `return_id` = `rma_number`; `order_id` = `order.external_id` (the Shopify order id);
`quantity` = `intended_return_quantity` (older versions: `return_quantity`), summed when one RMA lists
a SKU twice; `reason` = the machine code (`return_reason_code`) when present, else the reason text
lower-cased with spaces as underscores; `status` = `approval_status`. Items without a SKU are kept
under the SKU `unknown` (the key needs one) rather than dropped.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import field_validator

from connectors.aftership import aftership_pages
from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import iso_z


class ReturnOrder(Record):
    external_id: Optional[str] = None

    @field_validator("external_id", mode="before")
    @classmethod
    def _text(cls, v):
        return None if v is None else str(v)


class ReturnItem(Record):
    sku: Optional[str] = None
    intended_return_quantity: Optional[int] = None
    return_quantity: Optional[int] = None
    return_reason: Optional[str] = None
    return_reason_code: Optional[str] = None

    @field_validator("return_reason", mode="before")
    @classmethod
    def _reason_text(cls, v):
        if isinstance(v, dict):  # some versions send {name, …}
            return v.get("name") or v.get("code")
        return v


class Return(Record):
    rma_number: str
    approval_status: Optional[str] = None
    order: Optional[ReturnOrder] = None
    return_items: list[ReturnItem] = []
    created_at: Optional[Instant] = None
    updated_at: Optional[Instant] = None
    refunded_at: Optional[Instant] = None
    approved_at: Optional[Instant] = None
    resolved_at: Optional[Instant] = None
    rejected_at: Optional[Instant] = None
    expired_at: Optional[Instant] = None

    @field_validator("return_items", mode="before")
    @classmethod
    def _none_is_empty(cls, v):
        return [] if v is None else v

    def changed_at(self) -> datetime | None:
        """`updated_at`, else the latest lifecycle time (older API versions have no updated_at)."""
        if self.updated_at:
            return self.updated_at
        times = [t for t in (self.created_at, self.approved_at, self.resolved_at, self.rejected_at,
                             self.expired_at, self.refunded_at) if t]
        return max(times) if times else None


def reason_code(item: ReturnItem) -> str | None:
    if item.return_reason_code:
        return item.return_reason_code
    if item.return_reason:
        return "_".join(item.return_reason.strip().lower().split())
    return None


def emit_return(r: Return, run: Run) -> None:
    """The `returns` rows of one RMA (one per SKU), for the poller and the webhook loader alike."""
    changed = r.changed_at()
    by_sku: dict[str, dict] = {}
    for item in r.return_items:
        sku = item.sku or "unknown"
        qty = item.intended_return_quantity if item.intended_return_quantity is not None \
            else (item.return_quantity or 0)
        row = by_sku.setdefault(sku, {
            "return_id": r.rma_number, "sku": sku,
            "order_id": r.order.external_id if r.order else None, "quantity": 0,
            "reason": reason_code(item), "status": r.approval_status,
            "created_at": r.created_at, "refunded_at": r.refunded_at, "updated_at": changed,
        })
        row["quantity"] += qty
    for row in by_sku.values():
        run.emit("returns", row)


class ReturnsSource(Source):
    kind = "returns"
    tables = (Table("returns", ("return_id", "sku"), "merge"),)

    def http_headers(self, secret):
        return {"as-api-key": secret or ""}

    def extract(self, run: Run, http: Http) -> None:
        url = self.options["base_url"].rstrip("/") + "/returns"
        params = {"limit": int(self.options.get("page_size", 100))}
        since = run.cursor_time("returns")
        if since:
            params["updated_at_min"] = iso_z(since)
        newest = since
        for page in aftership_pages(http, url, params, "returns", run):
            for raw in page:
                r = run.validate(Return, raw, f"return {_ident(raw)}")
                changed = r.changed_at() if r else None
                run.saw(1, changed)
                if r is None:
                    continue
                if changed:
                    newest = max(newest, changed) if newest else changed
                emit_return(r, run)
        if newest:
            run.set_cursor("returns", iso_z(newest))


def _ident(raw) -> str:
    return str(raw.get("rma_number") or raw.get("id") or "?")[:40] if isinstance(raw, dict) else "?"
