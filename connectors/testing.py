"""Helpers to run the real connectors against a sandbox server on loopback (tests, benches, demos).

    server = sandbox.server.start(SandboxConfig(port=0), ManualClock(t0))
    cfg = write_config(tmp_path, server.url, interval_s=0.2)
    db = Database(cfg.db_path)
    Scheduler(db, cfg, clock).run_all()
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from queries import dynamic
from tower import config as config_mod

FX_RATES_FILE = config_mod.ROOT / "config" / "fx_rates.csv"

# Every table a full sync fills, with its primary key (to check for duplicates).
TABLE_KEYS = {
    "merchants": ("merchant_id",),
    "suppliers": ("supplier_id",),
    "skus": ("sku",),
    "warehouses": ("warehouse_id",),
    "nodes": ("node_id",),
    "stock_policies": ("sku", "warehouse_id"),
    "forecasts": ("sku", "market", "period_start"),
    "events": ("event_id",),
    "purchase_orders": ("po_id",),
    "po_progress": ("po_id", "observed_at"),
    "shipments": ("shipment_id",),
    "tracking_events": ("shipment_id", "checkpoint_time", "tag", "message"),
    "stock_observations": ("sku", "warehouse_id", "observed_at"),
    "orders": ("order_id",),
    "order_lines": ("order_id", "line_id"),
    "returns": ("return_id", "sku"),
    "nps_responses": ("response_id",),
    "csat_responses": ("response_id",),
    "fx_rates": ("currency", "valid_from"),
}

# Fast retries for tests: faults are retried within a fraction of a second, and a rate-limit reset
# (AfterShip: the next wall-clock second) is still honoured.
FAST_HTTP = {"connect_timeout_s": 2, "read_timeout_s": 2, "retries": 4, "backoff_s": 0.02,
             "max_backoff_s": 1.1, "max_total_wait_s": 5}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sources_for(shops=("green-living", "nordic-nest", "casa-verde"), supplier_csv="PRINT3D-LA") -> dict:
    """The standard source tables (as in tower.toml) pointing at `{sandbox}`."""
    return {
        "aftership": {"kind": "aftership", "base_url": "{sandbox}/tracking/2026-07"},
        "shopify": {"kind": "shopify", "base_url": "{sandbox}/shopify/{shop}/admin/api/2025-07",
                    "shops": list(shops), "inventory_shop": shops[0]},
        "supplier_portal": {"kind": "supplier_portal", "base_url": "{sandbox}/supplier-portal/v1"},
        "supplier_csv": {"kind": "supplier_csv",
                         "url": f"{{sandbox}}/supplier-files/{supplier_csv}/progress.csv"},
        "returns": {"kind": "returns", "base_url": "{sandbox}/returns/2025-07"},
        "nps": {"kind": "nps", "base_url": "{sandbox}/delighted/v1"},
        "csat": {"kind": "csat", "base_url": "{sandbox}/delighted-csat/v1"},
        "fx_rates": {"kind": "fx_rates", "path": str(FX_RATES_FILE)},
        "planning": {"kind": "planning", "base_url": "{sandbox}/planning"},
    }


def write_config(folder: str | Path, sandbox_url: str, *, interval_s: float = 60,
                 sources: dict | None = None, http: dict | None = None,
                 snapshot_interval_s: float = 3600, sandbox_enabled: bool = False) -> config_mod.Config:
    """Write `tower.toml` into `folder` (database and snapshot inside it) for a sandbox already
    serving at `sandbox_url`, and load it. `{sandbox}` URLs make the sandbox token the credential."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(sandbox_url)
    lines = [
        "[database]",
        f'path = {_toml_value(str(folder / "tower.duckdb"))}',
        f'snapshot = {_toml_value(str(folder / "snapshot" / "tower.duckdb"))}',
        f"snapshot_interval_s = {snapshot_interval_s}",
        "",
        "[sandbox]",
        f"enabled = {_toml_value(sandbox_enabled)}",
        f"host = {_toml_value(parts.hostname)}",
        f"port = {parts.port}",
        "",
    ]
    http = FAST_HTTP if http is None else http
    for name, table in (sources if sources is not None else sources_for()).items():
        lines.append(f"[sources.{name}]")
        merged = {"interval_s": interval_s, **http, **table}
        lines += [f"{k} = {_toml_value(v)}" for k, v in merged.items()]
        lines.append("")
    path = folder / "tower.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return config_mod.load(path)


def table_counts(db) -> dict[str, int]:
    return {t: int(db.df(dynamic.count_rows(t)).n.iloc[0]) for t in TABLE_KEYS}


def duplicate_keys(db) -> dict[str, int]:
    """Tables whose rows repeat a primary key (the schema enforces it; this double-checks)."""
    out = {}
    for t, key in TABLE_KEYS.items():
        n = db.df(dynamic.duplicate_keys(t, key)).d.iloc[0]
        if n:
            out[t] = int(n)
    return out


def table_rows(db, table: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of `table` sorted by its key, for comparing databases."""
    df = db.df(dynamic.all_rows(table, TABLE_KEYS[table]))
    df = df.drop(columns=[c for c in exclude if c in df.columns])
    return [tuple(r) for r in df.astype(object).where(df.notna(), None).itertuples(index=False)]
