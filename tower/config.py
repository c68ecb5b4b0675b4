"""Configuration: tower.toml (or $TOWER_CONFIG) for settings, .streamlit/secrets.toml or the
environment for secrets. A bad file fails with a message that names the file and the field.

The file is validated with pydantic-settings models; any declared setting can be overridden from the
environment as TOWER_<TABLE>__<FIELD> (e.g. TOWER_SANDBOX__PORT=9000,
TOWER_SOURCES__AFTERSHIP__INTERVAL_S=5), which beats the file. Secrets are never settings: they
are read on demand by `Config.secret` and refused inside the config file."""
from __future__ import annotations

import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tower.clock import SimClock
from tower.db import ENGINE_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TOKEN = "sandbox"  # the sandbox's well-known credential; never valid on a real API
SECRET_LIKE = ("api_key", "token", "password", "access_token")
SIZE = r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$"  # DuckDB's memory size syntax
DEFAULT_MEMORY_LIMIT = "512MB"  # [database] memory_limit: see DatabaseSettings


class ConfigError(ValueError):
    pass


class SourceConfig(BaseModel):
    """One configured source, as the connectors see it."""
    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    interval_s: float
    options: dict  # everything else from the [sources.<name>] table, "{sandbox}" resolved
    uses_sandbox: bool = False


class SandboxConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)  # 0 = any free port (tests)
    seed: int = 7
    speed: float = Field(60.0, gt=0)
    history_days: float = Field(7.0, ge=0)
    # the simulated clock's first moment (with its UTC offset); unset: the wall clock at start. The
    # world's demand follows the markets' local hour, so a run meant to be compared with another
    # (a soak) must start at the same simulated moment, not at whatever hour it was launched
    start: AwareDatetime | None = None
    scenarios: tuple[str, ...] = ("member_day",)
    # signed webhooks the sandbox pushes (issue 11): base URL ("{webhooks}" = Tower's own receiver,
    # "" = none), share of deliveries sent twice, retries of a failed delivery
    webhook_url: str = ""
    webhook_duplicate_rate: float = Field(0.02, ge=0, le=1)
    webhook_retries: int = Field(5, ge=0, le=20)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def clock(self) -> SimClock:
        """The world's clock for a process starting now: at `start` (else now), `speed`× the wall."""
        return SimClock(datetime.now(timezone.utc), self.speed, start=self.start)


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = "data/tower.duckdb"
    snapshot: str = "data/snapshot/tower.duckdb"
    snapshot_interval_s: float = Field(60.0, gt=0)
    # DuckDB's own limits. A query that needs more than memory_limit spills to temp_directory
    # instead of failing. The app server's default is DuckDB's share of a 1.5 GB server (issue 15):
    # DuckDB's own (80 % of RAM) let its buffer pool keep every block a snapshot copy read, ~1 GB
    # more at the reference scale (bench/README.md, "Server memory"). temp_directory unset:
    # `<database>.tmp` beside the file.
    memory_limit: str | None = Field(DEFAULT_MEMORY_LIMIT, pattern=SIZE)
    temp_directory: str | None = None
    max_temp_directory_size: str | None = Field(None, pattern=SIZE)
    threads: int | None = Field(None, ge=1)


class SourceSettings(BaseModel):
    """A [sources.<name>] table: `kind` and `interval_s` are Tower's; the rest is the connector's."""
    model_config = ConfigDict(extra="allow")

    kind: str
    interval_s: float = Field(60.0, gt=0)


class TowerSettings(BaseSettings):
    """The validated file, with TOWER_<TABLE>__<FIELD> environment overrides on top."""
    model_config = SettingsConfigDict(env_prefix="TOWER_", env_nested_delimiter="__", extra="ignore",
                                      frozen=True)

    database: DatabaseSettings = DatabaseSettings()
    sandbox: SandboxConfig = SandboxConfig()
    sources: dict[str, SourceSettings] = {}

    @field_validator("sources", mode="before")
    @classmethod
    def _no_secrets_in_the_file(cls, value: Any) -> Any:
        for name, table in (value.items() if isinstance(value, dict) else ()):
            for key in SECRET_LIKE:
                if isinstance(table, dict) and key in table:
                    raise ValueError(
                        f"[sources.{name}] has `{key}`: secrets belong in .streamlit/secrets.toml or "
                        "the environment, not the config file")
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, **_others):
        # the environment beats the file (the file arrives as init arguments)
        return env_settings, init_settings


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    db_path: Path
    snapshot_path: Path
    snapshot_interval_s: float
    sandbox: SandboxConfig
    sources: dict[str, SourceConfig]
    raw: dict = Field(default_factory=dict, repr=False)  # the file's tables, e.g. [ui], [alerts]
    engine: dict = Field(default_factory=dict)  # DuckDB settings every connection opens with
    secrets_path: Path = ROOT / ".streamlit" / "secrets.toml"

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    def secret(self, source: str, key: str) -> str | None:
        """A credential for `source`: env TOWER_<SOURCE>_<KEY>, then secrets.toml
        [sources.<source>] <key>; the sandbox's token for sources that point at the sandbox."""
        env = os.environ.get(f"TOWER_{source}_{key}".upper())
        if env:
            return env
        if self.secrets_path.exists():
            with self.secrets_path.open("rb") as f:
                value = tomllib.load(f).get("sources", {}).get(source, {}).get(key)
            if value:
                return str(value)
        if self.sources.get(source) and self.sources[source].uses_sandbox:
            return SANDBOX_TOKEN
        return None


def _resolve(value, sandbox_url: str):
    if isinstance(value, str):
        return value.replace("{sandbox}", sandbox_url)
    if isinstance(value, list):
        return [_resolve(v, sandbox_url) for v in value]
    return value


def _explain(path: Path, error: ValidationError) -> str:
    """One line per problem, naming the table and field: `tower.toml [sandbox] port: …`."""
    lines = []
    for e in error.errors():
        loc = [str(p) for p in e["loc"]]
        table = ".".join(loc[:2]) if loc[:1] == ["sources"] else (loc[0] if loc else "")
        field = loc[-1] if len(loc) > (2 if loc[:1] == ["sources"] else 1) else ""
        if e["type"] == "missing" and field == "kind":
            lines.append(f"{path} [{table}] needs a `kind`")
        elif e["type"] in ("greater_than", "greater_than_equal", "less_than_equal"):
            bound = {"greater_than": "> {gt:g}", "greater_than_equal": ">= {ge:g}",
                     "less_than_equal": "<= {le:g}"}[e["type"]].format(**e.get("ctx", {}))
            lines.append(f"{path} [{table}] {field} must be {bound} (got {e.get('input')!r})")
        elif e["type"] == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == SIZE:
            lines.append(f"{path} [{table}] {field} must be a size such as \"4GB\" or \"512MB\" "
                         f"(got {e.get('input')!r})")
        elif e["type"] == "value_error":
            lines.append(f"{path} {str(e['ctx']['error'])}")
        else:
            where = f"[{table}] {field}".rstrip()
            lines.append(f"{path} {where}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load(path: str | os.PathLike | None = None, **overrides) -> Config:
    """Read the config file. `overrides` replace top-level tables (handy for tests)."""
    path = Path(path or os.environ.get("TOWER_CONFIG") or ROOT / "tower.toml")
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    for k, v in overrides.items():
        raw[k] = {**raw.get(k, {}), **v} if isinstance(v, dict) else v

    try:
        settings = TowerSettings(**{k: raw[k] for k in ("database", "sandbox", "sources") if k in raw})
    except ValidationError as e:
        raise ConfigError(_explain(path, e)) from None  # the chained error would echo the input

    def under_root(p: str) -> Path:
        p = Path(p)
        return p if p.is_absolute() else (path.parent / p)

    sandbox_url = settings.sandbox.url
    sources = {}
    for name, table in settings.sources.items():
        options = {k: _resolve(v, sandbox_url) for k, v in (table.model_extra or {}).items()}
        uses_sandbox = any("{sandbox}" in str(v) for v in (table.model_extra or {}).values())
        sources[name] = SourceConfig(name=name, kind=table.kind, interval_s=table.interval_s,
                                     options=options, uses_sandbox=uses_sandbox)

    engine = settings.database.model_dump(include=set(ENGINE_SETTINGS), exclude_none=True)
    if "temp_directory" in engine:
        engine["temp_directory"] = str(under_root(engine["temp_directory"]))
    return Config(
        db_path=under_root(settings.database.path),
        snapshot_path=under_root(settings.database.snapshot),
        snapshot_interval_s=settings.database.snapshot_interval_s,
        sandbox=settings.sandbox,
        sources=sources,
        raw=raw,
        engine=engine,
    )
