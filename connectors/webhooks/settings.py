"""The `[webhooks]` table of tower.toml: where the receiver listens and how big a body may be.
Secrets are per source (`webhook_secret` in .streamlit/secrets.toml [sources.<name>], or
TOWER_<NAME>_WEBHOOK_SECRET); a source pointing at the sandbox uses the sandbox's token; 17TRACK
falls back to the source's api_key."""
from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

from tower import config as config_mod

SECRET_KEY = "webhook_secret"


class WebhooksConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8502, ge=0, le=65535)      # 0 = any free port (tests)
    max_body_bytes: int = Field(1_000_000, gt=0)  # larger bodies are refused with 413, unread
    spool: str = "webhooks"                       # folder under the database's folder
    loader: bool = True                           # false: store deliveries, load none (tests, maintenance)
    poll_s: float = Field(0.2, gt=0)              # how often the loader looks at the spool when not woken


def settings(cfg: config_mod.Config) -> WebhooksConfig:
    """The table, with TOWER_WEBHOOKS__<FIELD> environment overrides on top (as for other tables)."""
    values = dict(cfg.raw.get("webhooks") or {})
    for name in WebhooksConfig.model_fields:
        env = os.environ.get(f"TOWER_WEBHOOKS__{name.upper()}")
        if env is not None:
            values[name] = env
    try:
        return WebhooksConfig(**values)
    except ValueError as e:
        raise config_mod.ConfigError(f"[webhooks] {e}") from None


def secret(cfg: config_mod.Config, source: str) -> str | None:
    """17TRACK signs its pushes with the account's API key (the 17token), so a track17 source
    without its own webhook_secret uses its api_key."""
    value = cfg.secret(source, SECRET_KEY)
    src = cfg.sources.get(source)
    if not value and src is not None and src.kind == "track17":
        value = cfg.secret(source, "api_key")
    return value
