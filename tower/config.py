"""Configuration: tower.toml (or $TOWER_CONFIG) for settings, .streamlit/secrets.toml or the
environment for secrets. A bad file fails with a message that names the file and the field."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TOKEN = "sandbox"  # the sandbox's well-known credential; never valid on a real API


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    interval_s: float
    options: dict  # everything else from the [sources.<name>] table, "{sandbox}" resolved
    uses_sandbox: bool = False


@dataclass(frozen=True)
class SandboxConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = 7
    speed: float = 60.0
    history_days: float = 7.0
    scenarios: tuple[str, ...] = ("member_day",)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Config:
    db_path: Path
    snapshot_path: Path
    snapshot_interval_s: float
    sandbox: SandboxConfig
    sources: dict[str, SourceConfig]
    raw: dict = field(repr=False, default_factory=dict)
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

    def under_root(p: str) -> Path:
        p = Path(p)
        return p if p.is_absolute() else (path.parent / p)

    db = raw.get("database", {})
    sb = raw.get("sandbox", {})
    try:
        sandbox = SandboxConfig(
            enabled=bool(sb.get("enabled", True)),
            host=str(sb.get("host", "127.0.0.1")),
            port=int(sb.get("port", 8765)),
            seed=int(sb.get("seed", 7)),
            speed=float(sb.get("speed", 60)),
            history_days=float(sb.get("history_days", 7)),
            scenarios=tuple(sb.get("scenarios", ("member_day",))),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{path} [sandbox]: {e}") from e

    sources = {}
    for name, table in raw.get("sources", {}).items():
        if not isinstance(table, dict) or "kind" not in table:
            raise ConfigError(f"{path} [sources.{name}] needs a `kind`")
        options = {k: _resolve(v, sandbox.url) for k, v in table.items()
                   if k not in ("kind", "interval_s")}
        for secret_like in ("api_key", "token", "password", "access_token"):
            if secret_like in options:
                raise ConfigError(
                    f"{path} [sources.{name}] has `{secret_like}`: secrets belong in "
                    ".streamlit/secrets.toml or the environment, not the config file"
                )
        try:
            interval = float(table.get("interval_s", 60))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{path} [sources.{name}] interval_s: {e}") from e
        if interval <= 0:
            raise ConfigError(f"{path} [sources.{name}] interval_s must be > 0")
        uses_sandbox = any("{sandbox}" in str(v) for v in table.values())
        sources[name] = SourceConfig(name, str(table["kind"]), interval, options, uses_sandbox)

    return Config(
        db_path=under_root(db.get("path", "data/tower.duckdb")),
        snapshot_path=under_root(db.get("snapshot", "data/snapshot/tower.duckdb")),
        snapshot_interval_s=float(db.get("snapshot_interval_s", 60)),
        sandbox=sandbox,
        sources=sources,
        raw=raw,
    )
