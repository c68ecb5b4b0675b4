"""Resilience ROI of an event, after the seeds' framework (documented in config/roi.toml):

    ROI = (avoided loss + gains − resilience investment) ÷ resilience investment
    avoided loss          = lost sales avoided + customer churn avoided
    gains                 = extra revenue captured
    resilience investment = backup supplier premium + safety-stock carrying cost + tools + training

Facts come from the data (retro/roi_inputs over the event so far), assumptions and costs from
config/roi.toml. Everything uses event-to-date totals: sales accumulate and the costs are charged in
full from the first hour, so the ratio climbs steadily instead of jumping with each hour's noise.
With no investment there is no ratio: `roi` is None and `reason` says why."""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from tower.retro.data import run
from tower.retro.windows import Window

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "config" / "roi.toml"
CURRENCY = "USD"  # the reporting currency: every amount in the config and the result


class RoiConfigError(ValueError):
    """config/roi.toml is missing, unreadable or holds a value out of range (message fit to show)."""


@dataclass(frozen=True)
class RoiConfig:
    basis: str = "margin"                    # unit value: "margin" (price − cost) or "revenue" (price)
    lookback_days: float = 14.0              # backup POs ordered this long before the start count
    churn_probability: float = 0.0           # 0–1
    customer_lifetime_value: float = 0.0     # USD
    surge_share: float = 0.0                 # 0–1 of the surge credited to resilience
    backup_premium_per_unit: float | None = None   # USD; None = from the POs
    safety_stock_value: float = 0.0          # USD
    carrying_cost_rate: float = 0.0          # per year
    safety_stock_days: float = 0.0
    tools: float = 0.0                       # USD per event
    training: float = 0.0                    # USD per event
    currency: str = CURRENCY


def load_config(path: str | os.PathLike | None = None) -> RoiConfig:
    path = Path(path or DEFAULT_PATH)
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise RoiConfigError(f"{path.name} not found ({path})") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise RoiConfigError(f"{path.name} is not readable TOML: {e}") from None
    return parse_config(raw, path.name)


def parse_config(raw: dict, where: str = "roi.toml") -> RoiConfig:
    """A validated RoiConfig from the TOML tables; RoiConfigError names the first bad key."""
    def table(name: str) -> dict:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise RoiConfigError(f"{where}: [{name}] must be a table")
        return value

    def number(section: str, key: str, lo: float = 0.0, hi: float = math.inf,
               default: float = 0.0) -> float:
        value = table(section).get(key, default)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or math.isnan(value) or not lo <= value <= hi:
            bound = f"between {lo:g} and {hi:g}" if hi != math.inf else f"a number ≥ {lo:g}"
            raise RoiConfigError(f"{where}: [{section}] {key} must be {bound}, got {value!r}")
        return float(value)

    currency = raw.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise RoiConfigError(f"{where}: currency must be {CURRENCY} (the reporting currency), "
                             f"got {currency!r}")
    basis = table("value").get("basis", "margin")
    if basis not in ("margin", "revenue"):
        raise RoiConfigError(f"{where}: [value] basis must be \"margin\" or \"revenue\", got {basis!r}")
    premium = table("investment").get("backup_premium_per_unit", "auto")
    return RoiConfig(
        basis=basis,
        lookback_days=number("avoided_loss", "lookback_days", 0, 365, 14.0),
        churn_probability=number("avoided_loss", "churn_probability", 0, 1),
        customer_lifetime_value=number("avoided_loss", "customer_lifetime_value"),
        surge_share=number("gains", "surge_share", 0, 1),
        backup_premium_per_unit=(None if premium == "auto"
                                 else number("investment", "backup_premium_per_unit")),
        safety_stock_value=number("investment", "safety_stock_value"),
        carrying_cost_rate=number("investment", "carrying_cost_rate", 0, 10),
        safety_stock_days=number("investment", "safety_stock_days", 0, 3660),
        tools=number("investment", "tools"),
        training=number("investment", "training"),
    )


@dataclass(frozen=True)
class RoiInputs:
    """The facts of the event so far (retro/roi_inputs): what sold, what the tiers were ordered for
    it, what a unit earns, and the baseline's units for the surge."""
    units_sold: float = 0.0
    orders: float = 0.0
    baseline_units: float = 0.0
    backup_units: float = 0.0        # backup + emergency tier PO units for the event
    primary_units: float = 0.0
    unit_price: float = 0.0
    unit_cost: float = 0.0
    premium_per_unit: float = 0.0    # backup unit cost − primary unit cost from the POs (≥ 0)


@dataclass(frozen=True)
class RoiResult:
    avoided_units: float        # units sold × the backup tiers' share of PO volume
    lost_sales_avoided: float   # avoided_units × unit value
    churn_avoided: float        # avoided orders × churn probability × customer lifetime value
    avoided_loss: float         # lost_sales_avoided + churn_avoided
    gains: float                # extra units above the baseline × unit value × surge share
    backup_premium: float       # backup units × premium per unit
    carrying_cost: float        # safety stock value × carrying rate × days ÷ 365
    tools: float
    training: float
    investment: float           # backup_premium + carrying_cost + tools + training
    net: float                  # avoided_loss + gains − investment
    roi: float | None           # net ÷ investment (1.5 = 150 %); None without investment
    reason: str | None          # why roi is None: "no_investment" | "nothing_to_compare" | "no_sales"


def _clean(v) -> float:
    """Missing, NaN or negative facts count as 0 (a ratio must not come from garbage)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(f) or f < 0 else f


def roi(inputs: RoiInputs, config: RoiConfig) -> RoiResult:
    """The seeds' ROI from event-to-date facts and the config (each term is documented in
    config/roi.toml). The units the backup tiers made sellable are the units sold × their share
    of the event's PO volume: without them the primary alone would have left that demand unserved."""
    i = RoiInputs(**{f.name: _clean(getattr(inputs, f.name)) for f in fields(RoiInputs)})
    value = i.unit_price if config.basis == "revenue" else max(i.unit_price - i.unit_cost, 0.0)
    tiers = i.backup_units + i.primary_units
    avoided_units = i.units_sold * (i.backup_units / tiers) if tiers else 0.0
    lost_sales_avoided = avoided_units * value
    units_per_order = i.units_sold / i.orders if i.orders and i.units_sold else 1.0
    avoided_orders = avoided_units / units_per_order
    churn_avoided = avoided_orders * config.churn_probability * config.customer_lifetime_value
    avoided_loss = lost_sales_avoided + churn_avoided
    extra_units = max(i.units_sold - i.baseline_units - avoided_units, 0.0)
    gains = extra_units * value * config.surge_share
    premium = i.premium_per_unit if config.backup_premium_per_unit is None else config.backup_premium_per_unit
    backup_premium = i.backup_units * premium
    carrying = config.safety_stock_value * config.carrying_cost_rate * config.safety_stock_days / 365.0
    investment = backup_premium + carrying + config.tools + config.training
    net = avoided_loss + gains - investment
    if investment <= 0:
        ratio, reason = None, "no_investment" if avoided_loss + gains > 0 else "nothing_to_compare"
    elif i.units_sold <= 0:  # the first minutes of an event: −100 % would only say "not yet"
        ratio, reason = None, "no_sales"
    else:
        ratio, reason = net / investment, None
    return RoiResult(avoided_units, lost_sales_avoided, churn_avoided, avoided_loss, gains,
                     backup_premium, carrying, config.tools, config.training, investment, net, ratio, reason)


def roi_inputs(db, event: Window, params: dict, config: RoiConfig,
               baseline_units: float = 0.0) -> RoiInputs:
    """The event-to-date facts from the data (queries/retro/roi_inputs.sql; its $now cuts a running
    event at the present). `baseline_units` comes from compare_totals."""
    bounds = {**event.params(params), "lookback_days": config.lookback_days}
    row = run(db, "retro/roi_inputs", bounds).iloc[0]
    backup_cost, primary_cost = _clean(row["backup_unit_cost"]), _clean(row["primary_unit_cost"])
    premium = max(backup_cost - primary_cost, 0.0) if backup_cost and primary_cost else 0.0
    return RoiInputs(units_sold=_clean(row["units_sold"]), orders=_clean(row["orders"]),
                     baseline_units=_clean(baseline_units), backup_units=_clean(row["backup_units"]),
                     primary_units=_clean(row["primary_units"]), unit_price=_clean(row["unit_price"]),
                     unit_cost=_clean(row["unit_cost"]), premium_per_unit=round(premium, 4))
