"""Shared helpers for the alert tests: literal-row databases built through the real schema, and
alert settings built from the real config file with test overrides. (No tests in this module.)"""
from __future__ import annotations

import copy
import tomllib
from datetime import datetime, timedelta, timezone

from tower.alerts import settings as settings_mod
from tower.db import Database

T0 = datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def put(db: Database, table: str, *rows: dict) -> None:
    """Insert literal rows by column name (missing columns stay null)."""
    with db.cursor() as cur:
        for row in rows:
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            cur.execute(f"insert into {table} ({cols}) values ({marks})", list(row.values()))


def raw_config() -> dict:
    with settings_mod.DEFAULT_PATH.open("rb") as f:
        return tomllib.load(f)


def make_settings(engine: dict | None = None, rules: dict | None = None, only: list[str] | None = None,
                  notify: dict | None = None):
    """Settings from config/alerts.toml with overrides; `only` keeps just those rules."""
    raw = copy.deepcopy(raw_config())
    raw["engine"].update(engine or {})
    if only is not None:
        raw["rules"] = {k: v for k, v in raw["rules"].items() if k in only}
    for name, table in (rules or {}).items():
        raw["rules"].setdefault(name, {}).update(table)
    if notify is not None:
        raw["notify"] = notify
    return settings_mod.from_dict(raw, "test")


def stock(db: Database, sku: str, wh: str, at: datetime, available: int) -> None:
    put(db, "stock_observations", dict(sku=sku, warehouse_id=wh, observed_at=at, available=available))


def policy(db: Database, sku: str, wh: str, warning: int, limit: int, safety: int | None = None) -> None:
    put(db, "stock_policies", dict(sku=sku, warehouse_id=wh, warning_qty=warning, limit_qty=limit,
                                    safety_qty=safety if safety is not None else limit))
