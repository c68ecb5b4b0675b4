"""Live diagnosis for an alert: the numbers its playbook asks for, computed by SQL as of now
(queries/alerts/diagnosis/*.sql). A failing query becomes an error line, never an exception."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

import queries
from tower.alerts.rules import bound

# Which diagnosis queries each playbook shows, in order.
SECTIONS = {
    "demand_surge": ["sku_cover", "inbound", "backup_capacity"],
    "stock_below_watermark": ["sku_cover", "inbound", "backup_capacity"],
    "supplier_outage": ["supplier_pos", "backup_capacity"],
    "port_congestion": ["node_exposure", "backup_capacity"],
    "carrier_exception": ["affected_orders", "carrier_record"],
    "stale_source": ["source_runs"],
    "customer_kpi": ["market_carriers"],
}


@dataclass
class Diagnosis:
    sections: dict[str, pd.DataFrame] = field(default_factory=dict)   # query name -> rows
    errors: dict[str, str] = field(default_factory=dict)              # query name -> message
    numbers: dict[str, float | str | datetime | None] = field(default_factory=dict)  # headline


def _num(x):
    if x is None:
        return None
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return x


def _headline(playbook: str, s: dict[str, pd.DataFrame]) -> dict:
    """The few numbers a person needs first (computed from the sections' rows)."""
    out: dict = {}
    cover = s.get("sku_cover")
    if cover is not None and not cover.empty:
        available = float(cover.available.clip(lower=0).sum())
        rate = float(cover.units_per_hour.sum())
        out["available"] = available
        out["units_per_hour"] = round(rate, 2)
        out["hours_to_stockout"] = round(available / rate, 1) if rate > 0 else None
    inbound = s.get("inbound")
    if inbound is not None:
        left = (inbound.quantity_ordered - inbound.quantity_shipped).clip(lower=0)
        out["inbound_units"] = float(inbound.quantity_ordered.sum()) if not inbound.empty else 0.0
        out["inbound_to_ship"] = float(left.sum()) if not inbound.empty else 0.0
        etas = inbound.eta.dropna() if "eta" in inbound else []
        out["next_inbound_eta"] = _num(etas.min()) if len(etas) else None
    backup = s.get("backup_capacity")
    if backup is not None and not backup.empty:
        tier2 = backup[backup.tier == "backup"]
        row = (tier2 if not tier2.empty else backup).iloc[0]
        out["backup_supplier"] = row.supplier_id
        out["backup_lead_time_days"] = _num(row.lead_time_days)
        out["backup_free_per_day"] = _num(row.free_per_day)
    orders = s.get("affected_orders")
    if orders is not None:
        out["affected_orders"] = len(orders)
        out["earliest_promise"] = _num(orders.promised_delivery_at.min()) if not orders.empty else None
    pos = s.get("supplier_pos")
    if pos is not None:
        out["open_pos"] = len(pos)
        out["units_to_make"] = float(pos.quantity_to_make.sum()) if not pos.empty else 0.0
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def diagnose(db, playbook: str, entity_id: str, now: datetime) -> Diagnosis:
    return diagnose_many(db, playbook, [entity_id], now)[entity_id]


def diagnose_many(db, playbook: str, entity_ids: list[str], now: datetime) -> dict[str, Diagnosis]:
    """`diagnose` for several alerts of one playbook in one go, keyed by entity. The automatic
    playbook pass diagnoses every open alert after each evaluation (hundreds on a promotion day), so
    a section written for a list ($entity_ids, each row carrying its entity_id) runs once for all of
    them, and one that names no entity runs once and is shared; one written for a single $entity_id
    runs per entity. A failing section is an error line in every diagnosis it was for."""
    out = {e: Diagnosis() for e in entity_ids}
    for name in SECTIONS.get(playbook, []) if out else []:
        try:
            sql = queries.load(f"alerts/diagnosis/{name}")
            params = bound(sql, {"now": now, "entity_id": None, "entity_ids": list(out)})
            if "entity_id" in params:
                frames = {e: _rows(db, sql, {**params, "entity_id": e}) for e in out}
            elif "entity_ids" in params:
                frames = _by_entity(_rows(db, sql, params), list(out))
            else:
                rows = _rows(db, sql, params)
                frames = dict.fromkeys(out, rows)
        except Exception as e:  # noqa: BLE001 - show what failed, keep the page alive
            for d in out.values():
                d.errors[name] = f"{type(e).__name__}: {e}"[:300]
            continue
        for entity, d in out.items():
            d.sections[name] = frames[entity]
    for d in out.values():
        d.numbers = _headline(playbook, d.sections)
    return out


def _rows(db, sql: str, params: dict) -> pd.DataFrame:
    with db.cursor() as cur:
        return cur.execute(sql, params).df()


def _by_entity(rows: pd.DataFrame, entity_ids: list[str]) -> dict[str, pd.DataFrame]:
    """A list section's rows split per entity, without the entity_id column (as a single one reads)."""
    groups = dict(tuple(rows.groupby("entity_id", sort=False))) if not rows.empty else {}
    empty = rows.drop(columns="entity_id").iloc[0:0]
    return {e: groups[e].drop(columns="entity_id").reset_index(drop=True) if e in groups else empty
            for e in entity_ids}
