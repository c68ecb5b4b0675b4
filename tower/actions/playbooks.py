"""Executable playbooks: playbooks/<id>.toml beside the Markdown a person reads (playbooks/<explains>.md).

A file declares its trigger (an alert rule and conditions on the live diagnosis), how its plan is
computed, its mode (manual | approval | automatic) and the limits automatic runs stay within. Which
files are live comes from tower.toml ([actions] playbooks = ["B-03"]); a bad file is reported in
words by `load_all` and never crashes a page."""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tower.actions.errors import ActionInvalid

DIR = Path(__file__).resolve().parents[2] / "playbooks"
MODES = ("manual", "approval", "automatic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    rule: str
    severities: tuple[str, ...] = ("yellow", "red")
    threshold_source: str = Field("file", pattern="^(file|twin)$")
    hours_to_stockout_below: float = Field(48.0, gt=0)
    stockout_before_inbound: bool = True
    backup_free_per_day_above: float = Field(0.0, ge=0)
    demand_ratio_above: float | None = Field(None, gt=0)
    max_data_age_minutes: float = Field(90.0, gt=0)


class Promise(_Strict):
    min_days: int = Field(ge=0, le=60)
    max_days: int = Field(ge=0, le=60)
    restore_to: str = "2-3 days"

    @model_validator(mode="after")
    def _ordered(self):
        if self.max_days < self.min_days:
            raise ValueError(f"max_days ({self.max_days}) must be >= min_days ({self.min_days})")
        return self


class PlanSettings(_Strict):
    safety_hours: float = Field(12.0, ge=0)
    horizon_hours_without_inbound: float = Field(72.0, gt=0)
    budget_usd: float = Field(5000.0, gt=0)
    promise: Promise = Promise(min_days=5, max_days=7)
    coupon_percent: float = Field(10.0, gt=0, le=50)
    coupon_days: int = Field(14, gt=0, le=90)
    affected_order_hours: float = Field(48.0, gt=0)
    channel: str = "war-room"


class Limits(_Strict):
    spend_per_day_usd: float = Field(3000.0, ge=0)
    max_quantity: int = Field(600, gt=0)
    cooldown_hours: float = Field(24.0, ge=0)
    approval_above_usd: float = Field(2000.0, ge=0)


class ExecutablePlaybook(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")
    title: dict[str, str]
    explains: str                      # playbooks/<explains>.md: the explanation beside the plan
    mode: str = Field(pattern="^(manual|approval|automatic)$")
    trigger: Trigger
    plan: PlanSettings = PlanSettings()
    limits: Limits = Limits()

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.id


def _file_name(playbook_id: str) -> str:
    return playbook_id.lower().replace("-", "") + ".toml"


def _configured(cfg) -> list[str]:
    raw = (getattr(cfg, "raw", None) or {}).get("actions", {}) if cfg is not None else {}
    return list(raw.get("playbooks", ["B-03"]))


def _mode_override(cfg, playbook_id: str) -> str | None:
    """tower.toml [actions.modes] "B-03" = "approval": a deployment picks the mode without editing the file."""
    raw = (getattr(cfg, "raw", None) or {}).get("actions", {}) if cfg is not None else {}
    return (raw.get("modes") or {}).get(playbook_id)


def load(path: Path, mode: str | None = None) -> ExecutablePlaybook:
    """One playbook file, validated; ActionInvalid says what is wrong and where."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ActionInvalid(f"playbook file {path.name} not found in playbooks/") from None
    except tomllib.TOMLDecodeError as e:
        raise ActionInvalid(f"{path.name} is not valid TOML: {e}") from None
    if mode is not None:
        data["mode"] = mode
    try:
        book = ExecutablePlaybook(**data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ActionInvalid(f"{path.name}: {where}: {first['msg']}") from None
    if not (DIR / f"{book.explains}.md").exists():
        raise ActionInvalid(f"{path.name}: explains: no playbooks/{book.explains}.md beside it")
    return book


def load_all(cfg) -> list[ExecutablePlaybook]:
    """The playbooks tower.toml turns on, in its order. Raises ActionInvalid for a bad file."""
    return [load(DIR / _file_name(pid), _mode_override(cfg, pid)) for pid in _configured(cfg)]


def get(cfg, playbook_id: str) -> ExecutablePlaybook | None:
    return next((b for b in load_all(cfg) if b.id == playbook_id), None)


def for_rule(cfg, rule: str) -> list[ExecutablePlaybook]:
    return [b for b in load_all(cfg) if b.trigger.rule == rule]
