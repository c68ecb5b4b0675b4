"""Benchmark datasets: a database synced from the sandbox through the real connectors, and a copy
of it with every fact table multiplied (10× by default). Any bench (pages, KPIs, alerts …) can use
them; both return a `Dataset` whose `.path` is the DuckDB file (a Dataset is also os.PathLike).

    from bench.dataset import sandbox_db, scaled_db

    small = sandbox_db("/tmp/b/1x")                 # ~40 s: sandbox world + real connector syncs
    big = scaled_db(small, "/tmp/b/10x", factor=10)  # ~15 s: every fact table × 10
    Database(small.path)                              # open it like the app does
    AlertEngine(db, settings, ManualClock(small.now))  # `now`: the instant the data is "as of"

How `sandbox_db` builds it
- The sandbox world (`sandbox.world.World` behind `sandbox.server`, real HTTP on loopback, the
  `member_day` scenario) runs on a `ManualClock`. The world starts `hours_into_event + 0.5` hours
  before `at` (the member-day promotion begins half an hour after the world's start), so at `at` the
  promotion has been running for `hours_into_event` hours: the surge (sales at ~180 % of forecast)
  and, after 6 h, the primary supplier's silence are in the data.
- The real `connectors.scheduler.Scheduler` syncs every source once at the world's start (the
  history, `history_days` days of it), then again every `sync_every_h` simulated hours up to `at`
  (incremental pulls, as the running app does), so stock observations and tracking history
  accumulate the way they do live.
- `at` defaults to the current wall-clock minute, so an app reading the file with a SystemClock
  (as `streamlit run` does with the sandbox disabled) sees the promotion running "now".
- Same seed, same `at` → the same database (the sandbox is deterministic).

How `scaled_db` grows it
- Copy 0 is the source data unchanged; copies 1…factor−1 get every id suffixed `~k` (order,
  shipment, tracking number, PO, return, NPS response) so primary keys stay unique.
- SKUs and merchants grow with the facts (`GL-BOWL-01~3` has its own forecast, stock policy, stock
  observations and orders), so per-SKU and per-merchant queries really get `factor`× the entities;
  warehouses, suppliers, nodes and events stay as they are, so per-warehouse queries get
  `factor`× the rows. Ratios (sales vs forecast, on-time rate …) stay about the same.
- Each copied record family (an order with its lines, shipment, checkpoints, returns and NPS; a PO
  with its progress and inbound shipments; a sku×warehouse stock series) is shifted back in time
  by the same deterministic 0–30 min, so the copies are not exact duplicates in time, nothing
  moves into the future, and every record stays consistent with its children.
- Plans (forecast hours, stock policies) are not jittered: they are per hour / timeless.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from connectors import derived
from connectors.scheduler import Scheduler
from connectors.testing import TABLE_KEYS, duplicate_keys, table_counts, write_config
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock, SystemClock, utc
from tower.config import SandboxConfig
from tower.db import Database

DB_NAME = "tower.duckdb"
EVENT_OFFSET = timedelta(minutes=30)  # sandbox.scenarios: member_day starts 0.5 h after the world
JITTER_S = 1800                       # copies move back by up to 30 min
# Tables copied unchanged into the scaled database (reference data and the run log).
UNCHANGED = ("suppliers", "warehouses", "nodes", "events", "fx_rates", "sync_runs", "sync_state")


@dataclass
class Dataset:
    path: Path                       # the DuckDB file
    now: datetime                    # the instant the data is "as of" (UTC)
    event_start: datetime            # start of the member-day promotion in the data
    build_s: float                   # wall seconds it took to build
    counts: dict[str, int] = field(default_factory=dict)  # rows per table

    def __fspath__(self) -> str:
        return str(self.path)


def sandbox_db(folder: str | os.PathLike, seed: int = 7, history_days: float = 7, speed: float = 60,
               *, hours_into_event: float = 8, sync_every_h: float = 2, at: datetime | None = None,
               clock=None) -> Dataset:
    """A database at `folder/tower.duckdb` synced from the sandbox through the real connectors,
    as of `at` (default: now by `clock`, a SystemClock), `hours_into_event` hours into member day.

    `speed` is recorded in the sandbox config for parity with tower.toml; on a ManualClock the world's
    content does not depend on it. `folder` is emptied first."""
    started = time.perf_counter()
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    at = utc(at or (clock or SystemClock()).now()).replace(second=0, microsecond=0)
    world_start = at - timedelta(hours=hours_into_event) - EVENT_OFFSET
    sim = ManualClock(world_start)
    server = start_sandbox(SandboxConfig(port=0, seed=seed, speed=speed,
                                         history_days=history_days, scenarios=("member_day",)), sim)
    db = None
    try:
        cfg = write_config(folder, server.url)
        db = Database(cfg.db_path)
        scheduler = Scheduler(db, cfg, sim)
        step = timedelta(hours=sync_every_h)
        t = world_start
        while True:
            sim.set(t)
            # Plans are published ahead: planning runs at the first and the last step only (it
            # re-reads the forecast files, the slowest pull), the other sources at every step.
            names = [n for n in scheduler.sources
                     if t in (world_start, at) or cfg.sources[n].kind != "planning"]
            for name in names:
                result = scheduler.run_once(name)
                if result is None or result.status == "failed":
                    raise RuntimeError(f"sync of {name} at {t:%Y-%m-%d %H:%M} failed: "
                                       f"{getattr(result, 'error', 'crashed')}")
            if t >= at:
                break
            t = min(t + step, at)
        counts = table_counts(db)
        event = db.query("ops/current_event", {"now": at})
        if event.empty or event["name"].iloc[0] != "Member Day" or not counts["orders"]:
            raise RuntimeError(f"the synced data has no running member-day event with orders at {at}")
    finally:
        if db is not None:
            db.close()
        server.stop()
    return Dataset(folder / DB_NAME, at, world_start + EVENT_OFFSET, time.perf_counter() - started, counts)


# ── scaling ─────────────────────────────────────────────────────────────────────────────────────
def _suffix(col: pd.Series, k: int) -> pd.Series:
    """`id~k` for copy k ≥ 1 (nulls stay null); copy 0 keeps the original ids."""
    if k == 0:
        return col
    return col.where(col.isna(), col.astype("string") + f"~{k}")


def _shift(roots: pd.Series, k: int) -> pd.Series:
    """Deterministic shift back in time (0…JITTER_S s) per record family root, for copy k."""
    if k == 0:
        return pd.to_timedelta(pd.Series(0, index=roots.index), unit="s")
    hashed = pd.util.hash_pandas_object(roots.astype("string").fillna("") + f"~{k}", index=False)
    return -pd.to_timedelta((hashed % JITTER_S).astype("int64").to_numpy(), unit="s").to_series(
        index=roots.index)


def _time_cols(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if isinstance(df[c].dtype, pd.DatetimeTZDtype)]


def _jitter(df: pd.DataFrame, roots: pd.Series, k: int) -> pd.DataFrame:
    shift = _shift(roots, k)
    for c in _time_cols(df):
        df[c] = df[c] + shift
    return df


def _shipment_roots(shipments: pd.DataFrame) -> pd.Series:
    """A shipment moves with its order (outbound) or PO (inbound), else on its own."""
    return shipments["order_id"].fillna(shipments["po_id"]).fillna(shipments["shipment_id"])


def _copy(tables: dict[str, pd.DataFrame], k: int) -> dict[str, pd.DataFrame]:
    """Copy k of every fact and grown dimension table (ids suffixed, times shifted)."""
    out = {}
    t = {name: df.copy() for name, df in tables.items()}

    skus = t["skus"]
    skus["sku"] = _suffix(skus["sku"], k)
    if k:
        skus["name"] = skus["name"] + f" #{k}"
        skus["inventory_item_id"] = skus["inventory_item_id"] + k * 1_000_000_000
    out["skus"] = skus

    merchants = t["merchants"]
    merchants["merchant_id"] = _suffix(merchants["merchant_id"], k)
    if k:
        merchants["name"] = merchants["name"] + f" #{k}"
    out["merchants"] = merchants

    for name in ("stock_policies", "forecasts"):  # plans: per sku, not shifted
        df = t[name]
        df["sku"] = _suffix(df["sku"], k)
        out[name] = df

    stock = t["stock_observations"]
    stock = _jitter(stock, stock["sku"] + "|" + stock["warehouse_id"], k)
    stock["sku"] = _suffix(stock["sku"], k)
    out["stock_observations"] = stock

    pos = _jitter(t["purchase_orders"], t["purchase_orders"]["po_id"], k)
    pos["po_id"] = _suffix(pos["po_id"], k)
    pos["sku"] = _suffix(pos["sku"], k)
    out["purchase_orders"] = pos

    progress = _jitter(t["po_progress"], t["po_progress"]["po_id"], k)
    progress["po_id"] = _suffix(progress["po_id"], k)
    out["po_progress"] = progress

    orders = _jitter(t["orders"], t["orders"]["order_id"], k)
    for c in ("order_id", "order_number", "merchant_id"):
        orders[c] = _suffix(orders[c], k)
    out["orders"] = orders

    lines = t["order_lines"]
    lines["order_id"] = _suffix(lines["order_id"], k)
    lines["sku"] = _suffix(lines["sku"], k)
    out["order_lines"] = lines

    ships = t["shipments"]
    roots = _shipment_roots(ships)
    root_of = dict(zip(ships["shipment_id"], roots))
    ships = _jitter(ships, roots, k)
    for c in ("shipment_id", "tracking_number", "order_id", "po_id"):
        ships[c] = _suffix(ships[c], k)
    out["shipments"] = ships

    events = t["tracking_events"]
    events = _jitter(events, events["shipment_id"].map(root_of).fillna(events["shipment_id"]), k)
    events["shipment_id"] = _suffix(events["shipment_id"], k)
    out["tracking_events"] = events

    rets = _jitter(t["returns"], t["returns"]["order_id"].fillna(t["returns"]["return_id"]), k)
    for c in ("return_id", "sku", "order_id"):
        rets[c] = _suffix(rets[c], k)
    out["returns"] = rets

    nps = t["nps_responses"]
    nps = _jitter(nps, nps["order_id"].fillna(nps["response_id"]), k)
    for c in ("response_id", "order_id", "merchant_id"):
        nps[c] = _suffix(nps[c], k)
    out["nps_responses"] = nps

    csat = t["csat_responses"]
    csat = _jitter(csat, csat["order_id"].fillna(csat["response_id"]), k)
    for c in ("response_id", "order_id", "merchant_id"):
        csat[c] = _suffix(csat[c], k)
    out["csat_responses"] = csat
    return out


def _read_tables(path: Path, names) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set timezone = 'UTC'")
        return {name: con.execute(f'select * from "{name}"').df() for name in names}
    finally:
        con.close()


def scaled_db(src: Dataset | str | os.PathLike, folder: str | os.PathLike, factor: int = 10) -> Dataset:
    """A copy of `src` at `folder/tower.duckdb` with every fact table (and SKUs, merchants and their
    plans) × `factor`; see the module doc. `folder` is emptied first. `src` must not be open."""
    if factor < 1:
        raise ValueError(f"factor must be ≥ 1, got {factor}")
    started = time.perf_counter()
    src_path = Path(getattr(src, "path", src))
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    grown = [t for t in TABLE_KEYS if t not in UNCHANGED]
    tables = _read_tables(src_path, [*grown, *UNCHANGED])
    db = Database(folder / DB_NAME)
    try:
        with db.cursor() as cur:
            cur.execute("begin")
            for name in UNCHANGED:
                _insert(cur, name, tables[name])
            for k in range(factor):
                for name, df in _copy({n: tables[n] for n in grown}, k).items():
                    _insert(cur, name, df)
            cur.execute("commit")
            derived.rebuild_each(cur)  # rows written straight into the tables: derived tables recomputed
        counts = table_counts(db)
        _check_scaled(db, counts, tables, grown, factor)
    finally:
        db.close()
    now = getattr(src, "now", None)
    event_start = getattr(src, "event_start", None)
    return Dataset(folder / DB_NAME, now, event_start, time.perf_counter() - started, counts)


def _check_scaled(db, counts: dict, tables: dict, grown: list[str], factor: int) -> None:
    """Every grown table holds exactly factor × its rows, the rest the same rows; no key repeats."""
    wrong = {t: (counts[t], len(tables[t]) * (factor if t in grown else 1))
             for t in counts if counts[t] != len(tables[t]) * (factor if t in grown else 1)}
    if wrong:
        raise RuntimeError(f"scaled row counts (got, expected): {wrong}")
    if dupes := duplicate_keys(db):
        raise RuntimeError(f"scaled data repeats primary keys: {dupes}")


def _insert(cur, table: str, df: pd.DataFrame) -> None:
    """Bulk insert by column name (`table` comes from this module's fixed table list)."""
    if df.empty:
        return
    cur.register("staged", df)
    try:
        cur.execute(f'insert into "{table}" by name select * from staged')
    finally:
        cur.unregister("staged")
