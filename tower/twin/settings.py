"""config/twin.toml: the twin's costs and modelling knobs, validated (pydantic) once per load."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from tower.twin.errors import TwinInvalid

PATH = Path(__file__).resolve().parents[2] / "config" / "twin.toml"
MODES = ("sea", "air", "truck", "express")


class Transit(BaseModel):
    median_h: float = Field(gt=0)
    cv: float = Field(ge=0, le=2)


class Freight(BaseModel):
    sea: float = Field(ge=0)
    air: float = Field(ge=0)
    truck: float = Field(ge=0)
    express: float = Field(ge=0)
    reroute_fee: float = Field(ge=0)
    feeder_hours: float = Field(ge=0)

    def per_unit(self, mode: str | None) -> float:
        return float(getattr(self, mode)) if mode in MODES else self.sea


class Expediting(BaseModel):
    emergency_order_fee: float = Field(ge=0)
    quoted_lead_cv: float = Field(ge=0, le=2)


class TransferCosts(BaseModel):
    cost_per_unit: float = Field(ge=0)
    median_h: float = Field(gt=0)
    cv: float = Field(ge=0, le=2)
    keep_days: float = Field(ge=0)


class Value(BaseModel):
    basis: Literal["margin", "revenue"]
    goodwill_per_lost_unit: float = Field(ge=0)
    cap_recapture: float = Field(ge=0, le=1)


class Demand(BaseModel):
    uplift_half_life_h: float = Field(gt=0)
    uplift_window_h: int = Field(gt=0)
    spread_window_h: int = Field(gt=0)
    spread_bucket_h: int = Field(gt=0)
    min_sigma: float = Field(ge=0)
    max_sigma: float = Field(gt=0)


class Replenishment(BaseModel):
    lookback_days: int = Field(gt=0)
    order_every_days: float = Field(gt=0)


class Limits(BaseModel):
    memory_mb: float = Field(gt=0)
    max_horizon_days: int = Field(gt=0)
    fan_points: int = Field(gt=1)
    fan_runs: int = Field(gt=1)


class TwinSettings(BaseModel):
    currency: Literal["USD"] = "USD"
    freight: Freight
    transit_defaults: dict[str, Transit]
    supplier_premium: dict[str, float]
    expediting: Expediting
    transfer: TransferCosts
    value: Value
    demand: Demand
    replenishment: Replenishment
    limits: Limits

    @field_validator("transit_defaults")
    @classmethod
    def every_mode(cls, v: dict[str, Transit]) -> dict[str, Transit]:
        missing = [m for m in MODES if m not in v]
        if missing:
            raise ValueError(f"transit_defaults needs every mode; missing {', '.join(missing)}")
        return v


def load(path: Path = PATH) -> TwinSettings:
    """The settings, or TwinInvalid naming the file and the bad value."""
    try:
        return TwinSettings.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TwinInvalid(f"{path} cannot be read: {e}") from None
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TwinInvalid(f"{path}: {where}: {first['msg']}") from None
