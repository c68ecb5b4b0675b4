"""Scenarios: named sets of disruptions over a horizon, as data (pydantic, TOML, a database table).

Times are hours from the network's `now` (start_h) and durations in days or hours as named. A
scenario is validated twice: on its own (impossible parameters: pydantic, with messages in words)
and against a network (`check`: unknown supplier, port or SKU named). The library is the seeds'
scenarios in config/twin_scenarios.toml plus the users' own in the twin_scenarios table."""
from __future__ import annotations

import json
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import queries
from tower.auth import audit
from tower.auth.policy import Identity, require
from tower.twin.errors import TwinInvalid

LIBRARY = Path(__file__).resolve().parents[2] / "config" / "twin_scenarios.toml"
HARD_MAX_HORIZON_DAYS = 365


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SupplierStop(_Strict):
    """The supplier makes and ships nothing for `days` from `start_h`; its work resumes after."""
    kind: Literal["supplier_stop"] = "supplier_stop"
    supplier: str = Field(min_length=1)
    start_h: float = Field(default=0, ge=0)
    days: float = Field(gt=0)


class Port(_Strict):
    """A port, airport or hub congested (+extra_days to pass it) or closed for `days`."""
    kind: Literal["port"] = "port"
    node: str = Field(min_length=1)
    start_h: float = Field(default=0, ge=0)
    extra_days: float | None = Field(default=None, gt=0)
    closed: bool = False
    days: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def one_effect(self):
        if self.closed and self.days is None:
            raise ValueError(f"a closed port needs `days`: how long {self.node} stays closed")
        if not self.closed and self.extra_days is None:
            raise ValueError(f"say how {self.node} is disrupted: extra_days > 0 (congested) or closed = true with days")
        if self.closed and self.extra_days is not None:
            raise ValueError(f"{self.node} is either closed (days) or congested (extra_days), not both")
        return self


class Demand(_Strict):
    """Demand × factor for the SKUs and markets named (all when empty) over [start_h, start_h + hours)."""
    kind: Literal["demand"] = "demand"
    factor: float = Field(gt=0, le=20)
    skus: list[str] = Field(default_factory=list)
    markets: list[str] = Field(default_factory=list)
    start_h: float = Field(default=0, ge=0)
    hours: float | None = Field(default=None, gt=0)


class CarrierDelay(_Strict):
    """Last-mile parcels in the markets named (all when empty) arrive `hours` later than planned."""
    kind: Literal["carrier_delay"] = "carrier_delay"
    hours: float = Field(gt=0, le=24 * 60)
    markets: list[str] = Field(default_factory=list)
    start_h: float = Field(default=0, ge=0)
    days: float | None = Field(default=None, gt=0)


class CustomsHold(_Strict):
    """Inbound goods through `node`, or into `market`, held at customs for `days` from `start_h`."""
    kind: Literal["customs_hold"] = "customs_hold"
    node: str | None = None
    market: str | None = None
    days: float = Field(gt=0)
    start_h: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def one_place(self):
        if (self.node is None) == (self.market is None):
            raise ValueError("a customs hold names either a node or a market (one of them)")
        return self


Disruption = Annotated[Union[SupplierStop, Port, Demand, CarrierDelay, CustomsHold], Field(discriminator="kind")]


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str = Field(min_length=1, max_length=200)
    disruptions: list[Disruption] = Field(default_factory=list)
    horizon_days: int = Field(default=30, ge=1, le=HARD_MAX_HORIZON_DAYS)
    description: str = ""

    @property
    def horizon_h(self) -> int:
        return self.horizon_days * 24

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")


def words(e: ValidationError) -> str:
    """A pydantic error as one line per problem, naming the field."""
    out = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {msg}" if where else msg)
    return "; ".join(out)


def parse(data: dict) -> Scenario:
    """A scenario from plain data, or TwinInvalid saying what is wrong."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise TwinInvalid(f"scenario {data.get('name', '?')!r}: {words(e)}") from None


def check(network, scenario: Scenario) -> None:
    """Refuse a scenario naming what the network does not have, or a horizon beyond its forecast."""
    if network.size == 0:
        raise TwinInvalid("the network is empty: no SKU × warehouse has stock or a policy yet — "
                          "sync the sources first")
    skus, markets = set(network.sku), set(network.market)
    for d in scenario.disruptions:
        if isinstance(d, SupplierStop) and d.supplier not in network.suppliers:
            raise TwinInvalid(f"unknown supplier {d.supplier!r}; known: {', '.join(sorted(network.suppliers))}")
        node = getattr(d, "node", None)
        if node is not None and node not in network.nodes:
            raise TwinInvalid(f"unknown port or node {node!r}; known: {', '.join(sorted(network.nodes))}")
        for s in getattr(d, "skus", []):
            if s not in skus:
                raise TwinInvalid(f"unknown SKU {s!r} in the {d.kind} disruption")
        wanted = list(getattr(d, "markets", [])) + ([d.market] if getattr(d, "market", None) else [])
        for m in wanted:
            if m not in markets:
                raise TwinInvalid(f"unknown market {m!r}; the warehouses serve {', '.join(sorted(markets))}")
    if scenario.horizon_h > network.max_hours:
        raise TwinInvalid(f"a {scenario.horizon_days}-day horizon is longer than the twin plans "
                          f"({network.max_hours // 24} days, config/twin.toml [limits] max_horizon_days)")


# ── the library ───────────────────────────────────────────────────────────────────────────────────
def builtin(path: Path = LIBRARY) -> dict[str, Scenario]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {s["name"]: parse(s) for s in data.get("scenario", [])}


def library(db) -> dict[str, Scenario]:
    """Every scenario by name: the built-in ones, then the users' saved ones."""
    out = builtin()
    for r in db.query("twin/scenarios_list").itertuples():
        try:
            out.setdefault(r.name, parse(json.loads(r.body)))
        except TwinInvalid:
            continue  # a row saved by an older version that no longer validates is skipped, not fatal
    return out


def save(db, who: Identity | None, scenario: Scenario, *, now: datetime | None = None) -> None:
    """Store a user's scenario (permission "operate"), audited in the same transaction. A built-in
    name cannot be overwritten."""
    who = require(who, "operate")
    if scenario.name in builtin():
        raise TwinInvalid(f"{scenario.name!r} is a built-in scenario: save yours under another name")
    at = now or datetime.now(timezone.utc)
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("twin/scenario_save"), {
                "name": scenario.name, "title": scenario.title, "body": json.dumps(scenario.to_dict()),
                "by": who.subject, "at": at})
            audit.record(cur, who, "twin.scenario.save", at=at, target=scenario.name,
                         detail=scenario.to_dict())
            cur.commit()
        except Exception:
            cur.rollback()
            raise
