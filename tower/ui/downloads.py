"""Names for downloaded files: what it is and when, so a folder of downloads stays readable —
tower_retro_scorecard_2026-12-04T0930Z.csv, tower_sql_top-skus_2026-12-04T0930Z.parquet."""
from __future__ import annotations

import re
from datetime import UTC, datetime

MAX_PART = 40


def slug(text: str | None) -> str:
    """Lowercase letters, digits and dashes only (safe on every file system), at most MAX_PART."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", str(text or "").lower()).strip("-")
    return cleaned[:MAX_PART].rstrip("-")


def file_name(*parts: str | None, at: datetime, ext: str) -> str:
    """tower_<part>_<part>_<UTC minute>.<ext>; empty parts are left out."""
    stamp = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H%MZ")
    words = [s for s in (slug(p) for p in parts) if s]
    return "_".join(["tower", *words, stamp]) + "." + ext.lstrip(".")


def sql_label(sql: str, example: str | None = None, example_sql: str | None = None) -> str:
    """What a console query is called in its file name: the example's name while the editor still
    holds that example unchanged, else the first words of the SQL (comments left out)."""
    if example and example_sql is not None and (sql or "").strip() == example_sql.strip():
        return example.rsplit("/", 1)[-1]
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql or "", flags=re.S)
    return "-".join(re.findall(r"[A-Za-z0-9_]+", text)[:4]) or "query"
