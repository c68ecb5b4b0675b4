"""Alert settings from config/alerts.toml: rules and their thresholds, hold/clear counts, the
acknowledge target and notification routing. A bad file fails with a message naming the field.

Thresholds are plain parameters: every key of [rules.<name>] other than playbook, hold_count,
clear_count and enabled lands in RuleSettings.params and is bound as $<key> (tables and lists as
JSON text; the SQL reads per-market tables with market_target).

A rule that judges a KPI of the semantic layer (tower.kpis.ALERTED: on-time rate, NPS, return rate)
takes its thresholds from that KPI's targets in config/kpis.toml, never from this file, so a tile's
colour and the alert cannot disagree: yellow past the KPI's green, red past its yellow, with the same
per-market overrides and min_n (bound as $yellow_target, $red_target, $min_n, in the KPI's unit)."""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import queries
from tower import kpis

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "config" / "alerts.toml"
PLATFORMS = ("slack", "feishu", "dingtalk", "wecom")
SEVERITIES = ("yellow", "red")


class AlertConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RuleSettings:
    name: str                  # queries/alerts/<name>.sql
    playbook: str              # playbooks/<playbook>.md
    params: dict               # bound as $<key>; tables already turned into JSON text
    hold_count: int
    clear_count: int
    enabled: bool = True


@dataclass(frozen=True)
class ChannelSettings:
    name: str                  # secrets live under alerts_<name>
    platform: str              # slack | feishu | dingtalk | wecom


@dataclass(frozen=True)
class NotifySettings:
    timeout_wall_s: float = 5.0
    retries: int = 3
    backoff_wall_s: float = 0.5
    events: tuple[str, ...] = ("opened", "escalated", "ack_overdue", "resolved")
    routes: dict = field(default_factory=dict)       # severity -> tuple of channel names
    channels: dict = field(default_factory=dict)     # name -> ChannelSettings

    def channels_for(self, severity: str) -> list[ChannelSettings]:
        return [self.channels[n] for n in self.routes.get(severity, ()) if n in self.channels]


@dataclass(frozen=True)
class AlertSettings:
    rules: dict                # name -> RuleSettings, in evaluation order
    notify: NotifySettings
    hold_count: int = 2
    clear_count: int = 3
    min_interval_s: float = 30.0
    min_interval_wall_s: float = 0.0
    timer_wall_s: float = 15.0
    ack_target_minutes: float = 60.0


def _count(value, where: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError) as e:
        raise AlertConfigError(f"{where} must be a whole number, got {value!r}") from e
    if n < 1:
        raise AlertConfigError(f"{where} must be at least 1, got {n}")
    return n


def _number(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise AlertConfigError(f"{where} must be a number, got {value!r}") from e


TARGET_KEYS = ("yellow_target", "red_target", "min_n")


def kpi_thresholds(name: str, targets: kpis.Targets, where: str) -> dict:
    """$yellow_target / $red_target / $min_n of the alert on KPI `name`, from its tile targets:
    the alert is yellow where the tile leaves green, red where it turns red."""
    default = targets.for_kpi(name)
    if default is None:
        raise AlertConfigError(f"{where}: the KPI {name} has no target in config/kpis.toml to alert on")
    markets = {m: t for (kpi, m), t in targets.markets.items() if kpi == name}
    yellow = {"default": default.green, **{m: t.green for m, t in markets.items()}}
    red = {"default": default.yellow, **{m: t.yellow for m, t in markets.items()}}
    return {"yellow_target": json.dumps(yellow), "red_target": json.dumps(red), "min_n": default.min_n}


def from_dict(raw: dict, source: str = "alerts config", targets: kpis.Targets | None = None) -> AlertSettings:
    engine = raw.get("engine", {})
    hold = _count(engine.get("hold_count", 2), f"{source} [engine] hold_count")
    clear = _count(engine.get("clear_count", 3), f"{source} [engine] clear_count")
    known = set(queries.names("alerts"))
    rules = {}
    for name, table in raw.get("rules", {}).items():
        where = f"{source} [rules.{name}]"
        if not isinstance(table, dict):
            raise AlertConfigError(f"{where} must be a table")
        if f"alerts/{name}" not in known:
            raise AlertConfigError(f"{where}: no rule file queries/alerts/{name}.sql")
        params = {}
        for key, value in table.items():
            if key in ("playbook", "hold_count", "clear_count", "enabled"):
                continue
            # Tables (thresholds per SKU class, mode …) and lists travel as JSON text: SQL reads
            # them with json_extract / from_json, so one file serves any set of keys.
            params[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
        if name in kpis.ALERTED:
            doubled = sorted(set(params) & set(TARGET_KEYS))
            if doubled:
                raise AlertConfigError(f"{where}: {', '.join(doubled)} come from the KPI's targets in "
                                       f"config/kpis.toml (one place for a tile and its alert); remove them here")
            targets = kpis.load_targets() if targets is None else targets
            params.update(kpi_thresholds(name, targets, where))
        rules[name] = RuleSettings(
            name=name,
            playbook=str(table.get("playbook", name)),
            params=params,
            hold_count=_count(table.get("hold_count", hold), f"{where} hold_count"),
            clear_count=_count(table.get("clear_count", clear), f"{where} clear_count"),
            enabled=bool(table.get("enabled", True)),
        )

    n = raw.get("notify", {})
    channels = {}
    for name, table in n.get("channels", {}).items():
        platform = str(table.get("platform", ""))
        if platform not in PLATFORMS:
            raise AlertConfigError(
                f"{source} [notify.channels.{name}] platform must be one of {PLATFORMS}, got {platform!r}")
        channels[name] = ChannelSettings(name, platform)
    routes = {}
    for severity, names in n.get("routes", {}).items():
        if severity not in SEVERITIES:
            raise AlertConfigError(f"{source} [notify.routes] unknown severity {severity!r}")
        missing = [c for c in names if c not in channels]
        if missing:
            raise AlertConfigError(f"{source} [notify.routes] {severity}: unknown channels {missing}")
        routes[severity] = tuple(names)
    notify = NotifySettings(
        timeout_wall_s=_number(n.get("timeout_wall_s", 5), f"{source} [notify] timeout_wall_s"),
        retries=_count(n.get("retries", 3), f"{source} [notify] retries"),
        backoff_wall_s=_number(n.get("backoff_wall_s", 0.5), f"{source} [notify] backoff_wall_s"),
        events=tuple(n.get("events", NotifySettings.events)),
        routes=routes,
        channels=channels,
    )
    return AlertSettings(
        rules=rules,
        notify=notify,
        hold_count=hold,
        clear_count=clear,
        min_interval_s=_number(engine.get("min_interval_s", 30), f"{source} [engine] min_interval_s"),
        min_interval_wall_s=_number(engine.get("min_interval_wall_s", 0),
                                    f"{source} [engine] min_interval_wall_s"),
        timer_wall_s=_number(engine.get("timer_wall_s", 15), f"{source} [engine] timer_wall_s"),
        ack_target_minutes=_number(
            engine.get("ack_target_minutes", 60), f"{source} [engine] ack_target_minutes"),
    )


def load(path: str | os.PathLike | None = None, tower_config=None) -> AlertSettings:
    """Read the alerts file: explicit path, else $TOWER_ALERTS_CONFIG, else tower.toml's
    [alerts] config = "…", else config/alerts.toml."""
    if path is None:
        path = os.environ.get("TOWER_ALERTS_CONFIG")
    if path is None and tower_config is not None:
        path = tower_config.raw.get("alerts", {}).get("config")
    path = Path(path or DEFAULT_PATH)
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError as e:
        raise AlertConfigError(f"alerts config not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise AlertConfigError(f"{path} is not valid TOML: {e}") from e
    return from_dict(raw, str(path))
