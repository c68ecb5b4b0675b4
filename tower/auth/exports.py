"""Every download Tower hands out (CSV, Parquet, the retro report and data pack) is built here:
`export` checks the "analyse" permission on the server before the bytes exist, builds them, and
appends an audit row (action "export", target the file name). Hiding the button from a viewer is a
courtesy; this is the check."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tower.auth import audit, policy
from tower.auth.policy import Identity

ACTION = "export"


def export(db, who: Identity | None, file_name: str, build: Callable[[], bytes | str], *,
           at: datetime, detail: dict | None = None) -> bytes:
    """The file's bytes for `who`, or policy.Refused (nothing built, nothing recorded). `build` runs
    only after the check; the audit row records the file name, its size and `detail`."""
    who = policy.require(who, "analyse")
    data = build()
    if isinstance(data, str):
        data = data.encode()
    audit.record_now(db, who, ACTION, at=at, target=file_name,
                     detail={"bytes": len(data), **(detail or {})})
    return data
