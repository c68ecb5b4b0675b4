"""Manual sheet uploads with their permission check and audit row (domain layer: the source layer,
connectors.manual_upload, reads, validates and loads; it may not import tower.auth).

`upload(db, who, data, file_name, kind, now=, zone=)`: `who` needs the "operate" permission
(policy.Refused before anything is read or written); the sheet is checked row by row and loaded all
or nothing, the audit row committed in the same transaction as the data."""
from __future__ import annotations

from datetime import datetime

from connectors import manual_upload
from connectors.manual_upload import Report
from tower.auth import audit, policy

__all__ = ["Report", "upload", "template", "KINDS"]

KINDS = tuple(manual_upload.COLUMNS)
template = manual_upload.template


def upload(db, who: policy.Identity, data: bytes, file_name: str, kind: str, *, now: datetime,
           zone: str | None = None) -> Report:
    policy.require(who, "operate")
    report = manual_upload.check(data, file_name, kind, db, now=now, zone=zone)

    def audit_row(cur, upload_id: int) -> None:
        audit.record(cur, who, "upload.load", at=now, target=f"upload:{upload_id}",
                     detail={"kind": kind, "file": file_name, "sha256": report.sha256,
                             "rows": report.rows, "rows_written": report.rows_written})

    uploader = manual_upload.Uploader(subject=who.subject, name=who.name)
    return manual_upload.load(db, report, uploader=uploader, now=now, within=audit_row)
