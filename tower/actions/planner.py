"""A playbook's plan for one alert, computed from live data: does it trigger, and which actions with
which parameters (the numbers behind each one shown beside it).

B-03's PO covers the gap until the next inbound lands: units/hour × (hours to the inbound + safety)
− stock on hand, capped by the backup's free capacity over those days, by the budget and by the
playbook's quantity limit. Nothing here writes: the runner proposes what the plan says."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from connectors.actions import registry
from tower.actions import kinds
from tower.actions.playbooks import ExecutablePlaybook
from tower.alerts.diagnosis import Diagnosis, diagnose_many

# Sources a stock diagnosis reads (by connector kind): stale data there means a stale plan.
DIAGNOSIS_SOURCES = ("shopify_graphql", "shopify_rest", "supplier_portal")
PROMISE_TEXT = "{min}-{max} days"


class Reason(str):
    """Why a plan does (not) trigger: reads as English text (logs, CLI, tests); `key` and `values`
    let a page say it in the reader's language (actions.reason.<key>)."""
    key: str
    values: dict

    def __new__(cls, text: str, key: str, **values):
        obj = super().__new__(cls, text)
        obj.key, obj.values = key, values
        return obj


@dataclass
class PlannedAction:
    step: int
    kind: str
    params: dict
    estimated_cost: float | None
    why: str


@dataclass
class Plan:
    playbook: str
    alert_id: int | None
    numbers: dict
    triggered: bool
    reasons: list[str]
    actions: list[PlannedAction] = field(default_factory=list)
    stale: bool = False

    @property
    def total_cost(self) -> float:
        return sum(a.estimated_cost or 0.0 for a in self.actions)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _thresholds(db, book: ExecutablePlaybook) -> dict:
    """The trigger's thresholds: the file's, or the twin's latest export where it has one."""
    out = {"hours_to_stockout_below": book.trigger.hours_to_stockout_below,
           "demand_ratio_above": book.trigger.demand_ratio_above}
    if book.trigger.threshold_source == "twin":
        rows = db.query("twin/thresholds_latest", {"playbook": book.id})
        for r in rows.itertuples():
            if r.name in out and r.value is not None and not pd.isna(r.value):
                out[r.name] = float(r.value)
                out["source"] = f"twin ({r.scenario}, {r.computed_at:%Y-%m-%d %H:%M})"
    return out


def stale_sources(db, cfg, now: datetime, max_age_minutes: float) -> list[str]:
    """Names of the diagnosis's sources whose last good sync is older than the limit (or never)."""
    names = [n for n, s in (cfg.sources if cfg is not None else {}).items() if s.kind in DIAGNOSIS_SOURCES]
    fresh = {r.source: r.last_ok_at for r in db.query("actions/source_freshness", {"now": now}).itertuples()}
    limit = now - timedelta(minutes=max_age_minutes)
    return [n for n in names if n not in fresh or pd.isna(fresh[n]) or fresh[n] < limit]


def quick_response_capacity(cfg, supplier: str) -> float | None:
    """Units the supplier can still make within its quick-response lead time, asked live from its
    portal (GET capacity); None when the portal does not say or cannot be reached (the diagnosis's
    figure then stands, and the portal's own refusal would name the true limit)."""
    try:
        rows = registry.client_for("raise_po", cfg).capacity(supplier)
    except Exception:  # noqa: BLE001 - a plan must render with the portal down
        return None
    row = next((r for r in rows if r.get("supplier_code") == supplier), None)
    if not row or row.get("quick_response_free_per_day") is None:
        return None
    return float(row["quick_response_free_per_day"]) * max(1.0, float(row.get("quick_response_lead_time_days") or 1))


def _po_quantity(book: ExecutablePlaybook, n: dict, hours_to_inbound: float, unit_cost: float | None) -> tuple[int, str]:
    """The PO quantity and why, in words (every cap that bit is named)."""
    rate, available = n.get("units_per_hour") or 0.0, max(n.get("available") or 0.0, 0.0)
    gap = rate * (hours_to_inbound + book.plan.safety_hours) - available
    caps = {"gap": gap}
    quick = n.get("backup_quick_response_units")
    if quick is not None:
        caps["backup's quick-response capacity"] = quick
    else:
        caps["backup capacity"] = (n.get("backup_free_per_day") or 0.0) * max(1.0, hours_to_inbound / 24)
    if unit_cost:
        caps["budget"] = book.plan.budget_usd / unit_cost
    caps["quantity limit"] = float(book.limits.max_quantity)
    binding = min(caps, key=caps.get)
    qty = max(0, int(math.floor(caps[binding] / 10) * 10))
    why = (f"{rate:.1f}/h × ({hours_to_inbound:.0f} h to inbound + {book.plan.safety_hours:.0f} h) − "
           f"{available:.0f} on hand = {max(gap, 0):.0f} units")
    if binding != "gap":
        why += f", capped by {binding} at {caps[binding]:.0f}"
    return qty, why


def entity_of(alert: dict) -> str:
    """The entity an alert is about ("sku@market" for a surge), "" when it names none."""
    return str(alert.get("entity_id") or "")


@dataclass(frozen=True)
class Inputs:
    """What a plan reads besides its alert: the alert's diagnosis, the sources too stale to act on
    and the trigger's thresholds (the last two are the same for every alert at one time)."""
    diagnosis: Diagnosis
    stale: list[str]
    limits: dict


def inputs_for(db, cfg, book: ExecutablePlaybook, entity_ids: list[str], now: datetime) -> dict[str, Inputs]:
    """The inputs of the plans for these alerts' entities, read once for all of them: the automatic
    pass plans every open alert after each evaluation, hundreds on a promotion day."""
    stale = stale_sources(db, cfg, now, book.trigger.max_data_age_minutes)
    limits = _thresholds(db, book)
    return {e: Inputs(d, stale, limits) for e, d in diagnose_many(db, book.explains, entity_ids, now).items()}


def plan_for(db, cfg, book: ExecutablePlaybook, alert: dict, now: datetime, *,
             inputs: Inputs | None = None, actions_if_idle: bool = True) -> Plan:
    """The plan for this alert as of `now` (alert = a row of `alerts` as a dict). A page shows what
    the playbook would do even when it does not trigger; the automatic pass passes the inputs it
    read for all its alerts at once (inputs_for) and actions_if_idle=False, skipping the actions'
    queries for plans that do not trigger."""
    alert_id = int(alert["alert_id"]) if alert.get("alert_id") is not None else None
    plan = Plan(book.id, alert_id, {}, False, [])
    entity = entity_of(alert)
    if alert.get("rule") != book.trigger.rule:
        plan.reasons.append(Reason(f"alert rule {alert.get('rule')} is not {book.trigger.rule}", "rule",
                                    rule=alert.get("rule"), wanted=book.trigger.rule))
        return plan
    if alert.get("severity") not in book.trigger.severities:
        plan.reasons.append(Reason(f"severity {alert.get('severity')} is not one of {', '.join(book.trigger.severities)}",
                                    "severity", severity=alert.get("severity"), wanted=", ".join(book.trigger.severities)))
    if inputs is None:
        inputs = inputs_for(db, cfg, book, [entity], now)[entity]
    stale, diagnosis, limits = inputs.stale, inputs.diagnosis, inputs.limits
    if stale:
        plan.stale = True
        plan.reasons.append(Reason(f"data too old to act on: {', '.join(stale)} last synced more than "
                                   f"{book.trigger.max_data_age_minutes:.0f} min ago", "stale",
                                   sources=", ".join(stale), minutes=f"{book.trigger.max_data_age_minutes:.0f}"))
    if diagnosis.errors:
        plan.reasons.append(Reason("diagnosis failed: " + "; ".join(diagnosis.errors.values()), "diagnosis",
                                   error="; ".join(diagnosis.errors.values())))
        return plan
    n = dict(diagnosis.numbers)
    sku, market = (entity.split("@", 1) + [""])[:2]
    hours = n.get("hours_to_stockout")
    eta = n.get("next_inbound_eta")
    hours_to_inbound = _hours(now, pd.Timestamp(eta).to_pydatetime()) if eta is not None else None
    n.update({"sku": sku, "market": market, "hours_to_inbound": None if hours_to_inbound is None else round(hours_to_inbound, 1),
              "demand_ratio": None if alert.get("metric") is None else round(float(alert["metric"]) / 100, 2),
              **{f"threshold_{k}": v for k, v in limits.items()}})
    plan.numbers = n
    if hours is None:
        plan.reasons.append(Reason("nothing sold lately: no stockout to race", "no_sales"))
    elif hours >= limits["hours_to_stockout_below"]:
        plan.reasons.append(Reason(f"stock lasts {hours:.0f} h, not under {limits['hours_to_stockout_below']:.0f} h",
                                    "stock_lasts", hours=f"{hours:.0f}", limit=f"{limits['hours_to_stockout_below']:.0f}"))
    if (book.trigger.stockout_before_inbound and hours is not None and hours_to_inbound is not None
            and hours >= hours_to_inbound):
        plan.reasons.append(Reason(f"the inbound lands in {hours_to_inbound:.0f} h, before the stockout ({hours:.0f} h)",
                                    "inbound_first", inbound=f"{hours_to_inbound:.0f}", hours=f"{hours:.0f}"))
    if (n.get("backup_free_per_day") or 0) <= book.trigger.backup_free_per_day_above:
        plan.reasons.append(Reason(f"backup supplier {n.get('backup_supplier') or '—'} has no free capacity",
                                    "no_capacity", supplier=n.get("backup_supplier") or "—"))
    ratio_floor = limits.get("demand_ratio_above")
    if ratio_floor is not None and (n["demand_ratio"] or 0) <= ratio_floor:
        plan.reasons.append(Reason(f"sales at {n['demand_ratio']:.0%} of forecast, not above {ratio_floor:.0%}",
                                    "ratio", ratio=f"{n['demand_ratio']:.0%}", floor=f"{ratio_floor:.0%}"))
    plan.triggered = not plan.reasons
    if plan.triggered or actions_if_idle:
        cover = diagnosis.sections.get("sku_cover")
        if cover is None:
            cover = db.query("alerts/diagnosis/sku_cover", {"now": now, "entity_ids": [entity]})
        plan.actions = _actions(db, cfg, book, n, cover, now, hours_to_inbound)
    return plan


def _actions(db, cfg, book: ExecutablePlaybook, n: dict, cover: pd.DataFrame, now: datetime,
             hours_to_inbound: float | None) -> list[PlannedAction]:
    """`cover`: the SKU's stock by warehouse in the alert's scope (the sku_cover diagnosis)."""
    sku, market = n["sku"], n["market"]
    out: list[PlannedAction] = []
    warehouse = cover.warehouse_id.iloc[0] if not cover.empty else None
    supplier = n.get("backup_supplier")
    hours_ahead = hours_to_inbound if hours_to_inbound is not None else book.plan.horizon_hours_without_inbound
    if supplier and warehouse:
        n["backup_quick_response_units"] = quick_response_capacity(cfg, supplier) if cfg is not None else None
        cost = kinds.unit_cost(db, sku, supplier, now)
        qty, why = _po_quantity(book, n, max(hours_ahead, 0.0), cost)
        if qty > 0:
            params = {"supplier_id": supplier, "sku": sku, "warehouse_id": warehouse, "quantity": qty,
                      "need_by": (now + timedelta(hours=max(hours_ahead, 24))).date().isoformat(),
                      "quick_response": True}
            out.append(PlannedAction(1, "raise_po", params, _cost(db, cfg, "raise_po", params, now),
                                     Reason(why, "why_po", formula=why)))
    shop_rows = db.query("actions/plan_shop", {"now": now, "sku": sku, "market": market})
    if shop_rows.empty:
        return out
    shop = str(shop_rows.merchant_id.iloc[0])
    p = book.plan.promise
    promise = {"shop": shop, "sku": sku, "min_days": p.min_days, "max_days": p.max_days, "restore_to": p.restore_to}
    out.append(PlannedAction(2, "set_promised_ship_time", promise, 0.0,
                             Reason(f"new buyers see {PROMISE_TEXT.format(min=p.min_days, max=p.max_days)} and can "
                                    "still buy (backorders against the quick-response PO) instead of a sold-out page",
                                    "why_promise", min=p.min_days, max=p.max_days)))
    orders = db.query("actions/affected_orders", {"now": now, "shop": shop, "sku": sku, "market": market,
                                                  "hours": book.plan.affected_order_hours})
    if not orders.empty:
        code = f"SORRY-{sku}-{now:%m%d}".upper()[:40]
        coupon = {"shop": shop, "code": code, "percent": book.plan.coupon_percent,
                  "order_ids": [str(o) for o in orders.order_id], "ends_at": (now + timedelta(days=book.plan.coupon_days)).isoformat(),
                  "message_en": f"Your order may ship a few days later than promised. Please accept "
                                f"{book.plan.coupon_percent:g}% off your next order with code {{code}}.",
                  "message_zh": f"您的订单可能比承诺时间晚几天发货。请使用优惠码 {{code}} 在下次购买时享受 "
                                f"{book.plan.coupon_percent:g}% 折扣。"}
        out.append(PlannedAction(3, "create_discount", coupon, _cost(db, cfg, "create_discount", coupon, now),
                                 Reason(f"{len(orders)} open orders for {sku} in {market} may ship late",
                                        "why_coupon", n=len(orders), sku=sku, market=market)))
    hours = n.get("hours_to_stockout")
    text = (f"[{book.id}] {sku} in {market}: sales at {n.get('demand_ratio') or 0:.0%} of forecast, stock lasts "
            f"{'?' if hours is None else f'{hours:.0f}'} h, next inbound in "
            f"{'—' if hours_to_inbound is None else f'{hours_to_inbound:.0f} h'}. Plan: "
            + "; ".join(f"{a.kind} {a.params.get('quantity', '')}".strip() for a in out)
            + ". Owner: purchasing + ops; first update within 1 hour.")
    out.append(PlannedAction(4, "notify", {"channel": book.plan.channel, "text": text}, 0.0,
                             Reason("the preset 1-hour response message to the war room", "why_notify")))
    return out


def _cost(db, cfg, kind: str, params: dict, now: datetime) -> float | None:
    try:
        return round(kinds.estimate_cost(db, kind, kinds.parse(kind, params), cfg, now), 2)
    except Exception:  # noqa: BLE001 - an unpriceable step still shows; proposing it validates it properly
        return None
