"""Tower's own demand forecast (issue 14, item 1): units sold per SKU × market × hour, fitted from
order history, with 80 % and 95 % prediction intervals; stored in `twin_forecasts` and shown beside
the supplied plan on the Stock page. The twin can run on it where the seller supplies no plan
(`demand_override`). The model itself is tower.twin.forecast_model; this module decides when to
refit, hands the history to the fit and stores its rows.

Cost on a timer: the fit reads completed hours only, so `refresh` fingerprints the order history
of those hours (queries/twin/own_forecast_history_key.sql) and skips when it equals the last fit's:
within an hour nothing is refitted however often it is called. A refit of the default sandbox
world (96 SKU × market series, 14 days of orders, 30-day horizon, calibration fit included) took 18 s
on the shared machine; `AfterSync` (after every sync) runs it in a background thread.

At scale: the reference file has 12,000 series, and a refit costs ~0.3 s of CPU per series (the
calibration fit and the fit), about an hour on one core, in a child at nice 19 (`tower.aside`).
Both hand-overs are Parquet files streamed in record batches: the history (1M rows at the reference
scale) goes to the child without ever being a DataFrame in the server, and the forecast (8.6M rows)
comes back into DuckDB without being one either (bench/README.md, "Forecast refit")."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import queries
from tower import aside as tower_aside
from tower.clock import utc

log = logging.getLogger(__name__)

HISTORY_DAYS = 28          # four weeks: two full weekly cycles for MSTL's 168-hour season, and recent
HORIZON_H = 30 * 24        # the twin's default horizon
DAY, WEEK = 24, 168        # hours: the forecast's two seasons
BATCH_ROWS = 65_536        # rows per record batch in both hand-overs
FIT = "tower.twin.forecast_model:fit_file"  # by name: the server never imports the model (tower.aside)
PARQUET_SCHEMA = pa.schema(
    [("sku", pa.string()), ("market", pa.string()), ("hour", pa.timestamp("us", tz="UTC"))]
    + [(c, pa.float64()) for c in ("mean", "lo80", "hi80", "lo95", "hi95")] + [("model", pa.string())])


@dataclass(frozen=True)
class Refresh:
    """What `refresh` did: fitted | skipped (history unchanged) | empty (nothing to fit)."""
    status: str
    series: int = 0
    rows: int = 0
    seconds: float = 0.0
    reason: str | None = None


def hour_floor(t: datetime) -> pd.Timestamp:
    return pd.Timestamp(utc(t)).floor("h")


# ── the stored forecast ─────────────────────────────────────────────────────────────────────────
def parquet_batches(path: str, rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
    """A Parquet file as a stream of record batches. Not a pyarrow dataset, whose scanner reads
    ahead: storing a reference refit (8.6M rows) grew the server by 1.0 GB in batches, 1.5 GB as a
    dataset and 1.3 GB from a pickled DataFrame (`python -m bench.bench_forecast`)."""
    file = pq.ParquetFile(path)
    return pa.RecordBatchReader.from_batches(file.schema_arrow, file.iter_batches(batch_size=rows))


def store_rows(cur, path: str, fitted_at: datetime) -> None:
    """Insert the fit's Parquet file into twin_forecasts on `cur` (inside the caller's transaction),
    streamed in batches so the rows are never all in memory at once. Then hand arrow's freed buffers
    back: its default pool (mimalloc) keeps them, and a process that stored a reference refit stayed
    +914 MB larger instead of +518 MB (`python -m bench.bench_forecast`, "Forecast refit")."""
    cur.register("fit_rows", parquet_batches(path))
    try:
        cur.execute(queries.load("twin/own_forecast_insert"), {"fitted_at": fitted_at})
    finally:
        cur.unregister("fit_rows")
        pa.default_memory_pool().release_unused()


def write_history(db, span: dict, path: str) -> None:
    """The order history the fit reads (queries/twin/own_forecast_history.sql), written to a
    Parquet file for the child in DuckDB's record batches: at the reference scale it is 1M rows,
    which as a DataFrame held 145 MB of Python strings in the server (and a pickled copy) per refit."""
    with db.cursor() as cur:
        # a relation, not cursor.execute: DuckDB copies a DB-API result whole before streaming it
        reader = cur.sql(queries.load("twin/own_forecast_history"), params=span).to_arrow_reader(BATCH_ROWS)
        with pq.ParquetWriter(path, reader.schema) as out:
            for batch in reader:
                out.write_batch(batch)


@dataclass(frozen=True)
class Refit:
    """A refit under way: the history it fits (its fingerprint and span) and its files in `folder`."""
    key: str
    span: dict
    folder: Path
    began: float  # time.perf_counter() when it began

    @property
    def history(self) -> str:
        return str(self.folder / "history.parquet")

    @property
    def rows(self) -> str:
        return str(self.folder / "fit.parquet")


def begin(db, now: datetime, folder: Path, *, history_days: int = HISTORY_DAYS,
          force: bool = False) -> Refit | None:
    """A refit's database reads: None when the completed-hour order history is the last fit's (and
    not `force`: one small query), else the history written to `folder` for the fit."""
    until = hour_floor(now)
    span = {"from": (until - pd.Timedelta(days=history_days)).to_pydatetime(), "until": until.to_pydatetime()}
    key = str(db.query("twin/own_forecast_history_key", span)["history_key"].iloc[0])
    last = db.query("twin/own_forecast_last_fit")
    if not force and not last.empty and last["history_key"].iloc[0] == key:
        return None
    refit = Refit(key, span, folder, time.perf_counter())
    write_history(db, span, refit.history)
    return refit


def fit(refit: Refit, *, horizon_h: int = HORIZON_H, history_days: int = HISTORY_DAYS):
    """The fit itself, in a low-priority child process (tower.aside), away from the database."""
    return tower_aside.run(FIT, refit.history, refit.span["until"], refit.rows,
                           horizon_h=horizon_h, history_days=history_days)


def store(db, now: datetime, refit: Refit, written) -> Refresh:
    """The fit's rows in place of the last fit's, and the fit's log line, in one transaction."""
    seconds = time.perf_counter() - refit.began
    with db.cursor() as cur:
        cur.begin()
        try:
            cur.execute(queries.load("twin/own_forecast_clear"))
            if written.rows:
                store_rows(cur, refit.rows, utc(now))
            cur.execute(queries.load("twin/own_forecast_fit_log"), {
                "fitted_at": utc(now), "history_key": refit.key, "history_from": refit.span["from"],
                "history_until": refit.span["until"], "series": written.series, "rows_written": written.rows,
                "seconds": seconds, "reason": written.reason})
            cur.commit()
        except Exception:
            cur.rollback()  # nothing half-written: the previous fit stays
            raise
    log.info("twin forecast: %d series, %d rows in %.1f s%s", written.series, written.rows, seconds,
             f" ({written.reason})" if written.reason else "")
    return Refresh("fitted" if written.rows else "empty", written.series, written.rows, seconds,
                   written.reason)


def refresh(db, now: datetime, *, horizon_h: int = HORIZON_H, history_days: int = HISTORY_DAYS,
            force: bool = False) -> Refresh:
    """Refit and store the forecast when the completed-hour order history changed since the last
    fit (or `force`). Cheap to call on a timer: an unchanged history costs one small query. The fit
    runs in a low-priority child process (tower.aside), wherever this is called from."""
    with tempfile.TemporaryDirectory(prefix="tower-forecast-") as folder:
        refit = begin(db, now, Path(folder), history_days=history_days, force=force)
        if refit is None:
            return Refresh("skipped", reason="order history unchanged since the last fit")
        return store(db, now, refit, fit(refit, horizon_h=horizon_h, history_days=history_days))


def stored(db, *, sku: str | None = None, market: str | None = None, since: datetime | None = None) -> pd.DataFrame:
    return db.query("twin/own_forecast_read", {"sku": sku, "market": market, "from": since})


def demand_override(db, *, history_days: int = 7):
    """A `tower.twin.network.build(..., demand_override=…)` hook: (K, hours) mean units per hour per
    SKU × warehouse = Σ over the markets it ships to of the market's forecast × the warehouse's
    share of that SKU × market's recent orders (a warehouse ships to more countries than its own
    market: the EU warehouse serves FR and NL too). A key that shipped nothing lately gets 0, as the
    twin's own fallback would; one that shipped to a market Tower has no forecast for makes the
    hook return None: keep the supplied plan rather than under-count."""
    def plug(keys: pd.DataFrame, start: datetime, hours: int) -> np.ndarray | None:
        first = hour_floor(start)
        fc = stored(db, since=first.to_pydatetime())
        if fc.empty:
            return None
        share = db.query("twin/own_forecast_warehouse_share", {
            "from": (first - pd.Timedelta(days=history_days)).to_pydatetime(), "until": first.to_pydatetime()})
        k_of = keys.reset_index(drop=True).reset_index().rename(columns={"index": "k"})[["k", "sku", "warehouse_id"]]
        share = share.merge(k_of, on=["sku", "warehouse_id"])
        known = fc[["sku", "market"]].drop_duplicates()
        if len(share.merge(known, on=["sku", "market"])) < len(share):
            return None
        fc = fc.assign(h=((pd.to_datetime(fc["hour"], utc=True) - first) / pd.Timedelta(hours=1)).astype(int))
        fc = fc[fc["h"] < hours].merge(share, on=["sku", "market"])
        out = np.zeros((len(keys), hours), np.float64)
        np.add.at(out, (fc["k"].to_numpy(), fc["h"].to_numpy()), (fc["mean"] * fc["share"]).to_numpy())
        last = int(fc["h"].max()) + 1 if not fc.empty else hours
        if last < hours:  # past the stored horizon: repeat its last week
            tail = out[:, max(0, last - WEEK):last]
            out[:, last:] = np.tile(tail, -(-(hours - last) // tail.shape[1]))[:, :hours - last]
        return out.astype(np.float32)
    return plug


def interval_coverage(rows: pd.DataFrame, actual: pd.DataFrame, level: int = 80) -> float:
    """Share of actual (sku, market, hour, units) points inside the stored `level` % interval."""
    both = rows.merge(actual.assign(hour=pd.to_datetime(actual["hour"], utc=True)), on=["sku", "market", "hour"])
    if both.empty:
        return float("nan")
    inside = (both["units"] >= both[f"lo{level}"]) & (both["units"] <= both[f"hi{level}"])
    return float(inside.mean())


class AfterSync:
    """A `connectors.scheduler.Scheduler.after_sync` callback: after any sync, refresh the forecast
    in a background thread (a refit takes seconds; the scheduler must not wait), one at a time and
    at most every `min_interval_s` wall seconds (a full refit of the default world costs ~18 s of
    CPU; an accelerated sandbox completes an hour of history every wall minute). An unchanged
    history makes the refresh a single small query, so no source filter is needed."""

    def __init__(self, db, clock, min_interval_s: float = 600.0):
        self.db, self.clock, self.min_interval_s = db, clock, min_interval_s
        self._busy = threading.Lock()
        self._last_start = float("-inf")
        self._stopping = threading.Event()
        self._in_database = threading.Lock()  # held while a refit reads or writes the database

    def __call__(self, source: str, result: object) -> threading.Thread | None:
        if self._stopping.is_set() or time.monotonic() - self._last_start < self.min_interval_s:
            return None
        if not self._busy.acquire(blocking=False):
            return None            # a refit is already running: it reads the newest history anyway
        self._last_start = time.monotonic()
        thread = threading.Thread(target=self._work, name="twin-forecast", daemon=True)
        thread.start()
        return thread

    def stop(self, timeout_s: float = 60.0) -> None:
        """No refit starts from now on and one under way stores nothing. A refit reading or writing
        the database finishes that first (seconds), so the database can then close: DuckDB refuses
        to close a connection under a running statement (and a close mid-refit used to log a
        traceback at every stop)."""
        self._stopping.set()
        if self._in_database.acquire(timeout=timeout_s):
            self._in_database.release()

    def _work(self) -> None:
        now = self.clock.now()
        try:
            with tempfile.TemporaryDirectory(prefix="tower-forecast-") as folder:
                with self._in_database:
                    refit = None if self._stopping.is_set() else begin(self.db, now, Path(folder))
                if refit is None:
                    return
                written = fit(refit)  # minutes of CPU at scale, aside: never the screens' CPU
                with self._in_database:
                    if self._stopping.is_set():
                        log.info("twin forecast refit not stored: the app is stopping")
                        return
                    store(self.db, now, refit, written)
        except Exception:  # noqa: BLE001 - a failed refit keeps the previous forecast; say why in the log
            log.exception("twin forecast refresh failed")
        finally:
            self._busy.release()
