"""The typed parameters of every action kind, their checks against live data, and their cost.

`validate` is the gate every proposal passes: pydantic checks the shape and the bounds (a negative or
absurd quantity, a bad coupon code), then the database checks that the SKU, supplier, warehouse and
shop exist. A refusal is an ActionInvalid whose message names the field; nothing is written."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import queries
from tower.actions.errors import ActionInvalid

# No single action orders, ships or moves more than this many units: a typo guard (one extra zero),
# far above any real quick-response order.
MAX_QUANTITY = 100_000
MAX_PROMISE_DAYS = 60
CODE = re.compile(r"^[A-Z0-9-]{3,40}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RaisePO(Params):
    supplier_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    warehouse_id: str = Field(min_length=1)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    need_by: date | None = None
    quick_response: bool = True


class BookFreight(Params):
    mode: Literal["air", "sea"]
    origin_supplier_id: str = Field(min_length=1)
    warehouse_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    po_number: str | None = None


class SetPromisedShipTime(Params):
    shop: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    min_days: int = Field(ge=0, le=MAX_PROMISE_DAYS)
    max_days: int = Field(ge=0, le=MAX_PROMISE_DAYS)
    restore_to: str | None = None        # the promise to put back on revert, e.g. "2-3 days"

    @model_validator(mode="after")
    def _ordered(self):
        if self.max_days < self.min_days:
            raise ValueError(f"max_days ({self.max_days}) must be >= min_days ({self.min_days})")
        return self


class CreateDiscount(Params):
    shop: str = Field(min_length=1)
    code: str
    percent: float = Field(gt=0, le=50)
    customer_emails: list[str] = Field(default_factory=list, max_length=5000)
    order_ids: list[str] = Field(default_factory=list, max_length=5000)   # their buyers get it (resolved by the shop)
    ends_at: datetime
    message_en: str = Field(min_length=1, max_length=2000)
    message_zh: str = Field(min_length=1, max_length=2000)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise ValueError("must be 3-40 characters of A-Z, 0-9 and '-'")
        return v

    @model_validator(mode="after")
    def _someone(self):
        if not self.customer_emails and not self.order_ids:
            raise ValueError("customer_emails or order_ids: name at least one buyer or order")
        return self

    @field_validator("customer_emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if not EMAIL.match(e)]
        if bad:
            raise ValueError(f"not an e-mail address: {bad[0]!r}")
        return v


class TransferStock(Params):
    sku: str = Field(min_length=1)
    from_warehouse: str = Field(min_length=1)
    to_warehouse: str = Field(min_length=1)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)

    @model_validator(mode="after")
    def _two_places(self):
        if self.to_warehouse == self.from_warehouse:
            raise ValueError("to_warehouse must differ from from_warehouse")
        return self


class CapPromotion(Params):
    shop: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    max_units_per_order: int = Field(ge=0, le=MAX_QUANTITY)


class Notify(Params):
    channel: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4000)


KINDS: dict[str, type[Params]] = {
    "raise_po": RaisePO,
    "book_freight": BookFreight,
    "set_promised_ship_time": SetPromisedShipTime,
    "create_discount": CreateDiscount,
    "transfer_stock": TransferStock,
    "cap_promotion": CapPromotion,
    "notify": Notify,
}

# Which reference each id field must name (query in queries/actions/known_<what>.sql).
REFERENCES = {
    "sku": "sku", "supplier_id": "supplier", "origin_supplier_id": "supplier",
    "warehouse_id": "warehouse", "from_warehouse": "warehouse", "to_warehouse": "warehouse",
    "shop": "shop",
}
# Kinds whose vendor reply is the effect itself (a storefront write, a message): acknowledged = done.
EFFECT_ON_REPLY = frozenset({"set_promised_ship_time", "create_discount", "cap_promotion", "notify"})
# Kinds no vendor can take back: revert refuses them up front.
CANNOT_UNDO = frozenset({"notify"})


def _explain(kind: str, error: ValidationError) -> str:
    parts = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"]) or "params"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown parameter (known: {', '.join(KINDS[kind].model_fields)})"
        parts.append(f"{where}: {msg} (got {e.get('input')!r})" if e["type"] != "missing"
                     else f"{where}: required")
    return f"{kind}: " + "; ".join(parts)


def parse(kind: str, params: dict) -> Params:
    """The params as the kind's model (shape and bounds only, no database)."""
    if kind not in KINDS:
        raise ActionInvalid(f"unknown action kind {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(params, dict):
        raise ActionInvalid(f"{kind}: params must be a mapping, got {type(params).__name__}")
    try:
        return KINDS[kind].model_validate(params)
    except ValidationError as e:
        raise ActionInvalid(_explain(kind, e)) from None


def validate(db, kind: str, params: dict, now: datetime) -> Params:
    """`params` checked for `kind`: shape, bounds, dates in the future, ids that exist."""
    model = parse(kind, params)
    with db.cursor() as cur:
        for field, what in REFERENCES.items():
            value = getattr(model, field, None)
            if value is not None and not cur.execute(queries.load(f"actions/known_{what}"),
                                                     {"id": value}).fetchone()[0]:
                raise ActionInvalid(f"{kind}: {field}: unknown {what} {value!r}")
    if isinstance(model, RaisePO) and model.need_by is not None and model.need_by < now.date():
        raise ActionInvalid(f"{kind}: need_by: {model.need_by} is in the past (today is {now.date()})")
    if isinstance(model, CreateDiscount) and model.ends_at <= now:
        raise ActionInvalid(f"{kind}: ends_at: {model.ends_at:%Y-%m-%d %H:%M} is not after now")
    return model


def canonical(model: Params) -> dict:
    """The params as stored and hashed: JSON-safe, every field present, in a stable form."""
    return model.model_dump(mode="json")


def costs(cfg) -> dict:
    """[actions.costs] with defaults: freight per unit by mode, a transfer per unit, a coupon per
    customer (its expected discount), all USD."""
    given = ((cfg.raw if cfg is not None else {}).get("actions", {}) or {}).get("costs", {}) or {}
    return {"air_per_unit": 4.0, "sea_per_unit": 0.6, "transfer_per_unit": 0.5,
            "coupon_per_customer": 6.0, **given}


def unit_cost(db, sku: str, supplier_id: str | None, now: datetime) -> float | None:
    with db.cursor() as cur:
        row = cur.execute(queries.load("actions/unit_cost"),
                          {"sku": sku, "supplier_id": supplier_id, "now": now}).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def estimate_cost(db, kind: str, model: Params, cfg=None, now: datetime | None = None) -> float:
    """What the action is expected to cost in USD: goods at the newest known unit price, freight
    and transfers per unit from [actions.costs], a coupon's expected discount; storefront settings
    and messages cost nothing. An unknown unit price counts as 0 (and the planner shows it)."""
    rates = costs(cfg)
    now = now or datetime.now().astimezone()
    if isinstance(model, RaisePO):
        return round(model.quantity * (unit_cost(db, model.sku, model.supplier_id, now) or 0.0), 2)
    if isinstance(model, BookFreight):
        return round(model.quantity * float(rates[f"{model.mode}_per_unit"]), 2)
    if isinstance(model, TransferStock):
        return round(model.quantity * float(rates["transfer_per_unit"]), 2)
    if isinstance(model, CreateDiscount):
        return round(len(model.customer_emails) * float(rates["coupon_per_customer"]), 2)
    return 0.0
