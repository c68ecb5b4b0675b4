"""Tower's own demand forecast (issue 14, item 1): units sold per SKU × market × hour, fitted from
order history, with 80 % and 95 % prediction intervals; stored in `twin_forecasts` and shown beside
the supplied plan on the Stock page. The twin can run on it where the seller supplies no plan
(`demand_override`).

Library: statsforecast (Nixtla). Measured here (2 shared cores): import 1.4 s, first MSTL fit of a
four-week hourly series 0.2 s, the second the same — statsforecast 2.x no longer compiles with numba
(its kernels are coreforecast's C++), so there is no first-call cost to dodge with a lighter model.
MSTL takes both seasonalities of shop demand at once (hour of day, 24; day of week, 168) and hands
the deseasonalised rest to AutoETS, whose intervals are analytic (no bootstrap, no extra cost).
statsmodels ETS takes one seasonality only; a 168-hour seasonal ETS has 168 states to fit.

Cost on a timer: the fit reads completed hours only, so `refresh` fingerprints the order history
of those hours (queries/twin/own_forecast_history_key.sql) and skips when it equals the last fit's:
within an hour nothing is refitted however often it is called. A refit of the default sandbox
world (96 SKU × market series, 14 days of orders, 30-day horizon, calibration fit included) took 18 s
on the shared machine; `after_sync` runs it in a background thread.

At scale: the reference file has 12,000 series, and a refit costs ~0.3 s of CPU per series (the
calibration fit and the fit), about an hour on one core, in a child at nice 19 (`tower.aside`). It
fits `CHUNK_SERIES` series at a time and writes their rows to a Parquet file that the server streams
into DuckDB, so neither process ever holds the 8.6M forecast rows at once (bench/README.md,
"Forecast refit")."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS

import queries
from tower import aside as tower_aside
from tower.clock import utc

log = logging.getLogger(__name__)

HISTORY_DAYS = 28          # four weeks: two full weekly cycles for MSTL's 168-hour season, and recent
HORIZON_H = 30 * 24        # the twin's default horizon
DAY, WEEK = 24, 168
LEVELS = (80, 95)
Z80 = 1.2815515655446004  # standard normal quantile of 0.9: half an 80 % interval in σ
COLUMNS = ["sku", "market", "hour", "mean", "lo80", "hi80", "lo95", "hi95", "model"]
PARQUET_SCHEMA = pa.schema(
    [("sku", pa.string()), ("market", pa.string()), ("hour", pa.timestamp("us", tz="UTC"))]
    + [(c, pa.float64()) for c in ("mean", "lo80", "hi80", "lo95", "hi95")] + [("model", pa.string())])
CHUNK_SERIES = 500         # series fitted per chunk: bounds the refit's memory at any number of SKUs


@dataclass(frozen=True)
class Fit:
    """What one forecast run produced: rows (COLUMNS), and in words why something is missing."""
    rows: pd.DataFrame
    reason: str | None = None                     # why nothing at all was forecast
    skipped: dict[tuple[str, str], str] | None = None  # per (sku, market) left out: why


@dataclass(frozen=True)
class Written:
    """What `forecast_to_parquet` wrote: rows and series, and in words why something is missing."""
    rows: int
    series: int
    reason: str | None = None
    skipped: dict[tuple[str, str], str] | None = None


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


def _model_for(hours: int):
    """The model a series of `hours` hourly points can carry, or None when too short."""
    if hours >= 2 * WEEK:
        return "MSTL(24,168)+ETS on sqrt", MSTL(season_length=[DAY, WEEK], trend_forecaster=AutoETS(model="ZZN"))
    if hours >= 2 * DAY:
        return "MSTL(24)+ETS on sqrt", MSTL(season_length=DAY, trend_forecaster=AutoETS(model="ZZN"))
    return None, None


def dense(history: pd.DataFrame, start: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """Sparse (sku, market, hour, units) rows → one row per series × hour in [start, until), zeros
    where nothing sold (an hour without an order is a real zero, not a gap)."""
    hours = pd.date_range(start, until, freq="h", inclusive="left", tz="UTC")
    keys = history[["sku", "market"]].drop_duplicates()
    grid = keys.merge(pd.DataFrame({"hour": hours}), how="cross")
    h = history.assign(hour=pd.to_datetime(history["hour"], utc=True))
    out = grid.merge(h, on=["sku", "market", "hour"], how="left")
    return out.assign(units=out["units"].fillna(0.0).astype(float))


def forecast(history: pd.DataFrame, until: datetime, *, horizon_h: int = HORIZON_H,
             history_days: int = HISTORY_DAYS, chunk_series: int = CHUNK_SERIES) -> Fit:
    """Forecast every SKU × market in `history` (sku, market, hour, units; completed hours before
    `until`) for `horizon_h` hours from `until`. History starts at the first sale seen (a young shop
    has less than `history_days`), so a series is not padded with zeros from before the data began."""
    fits = list(forecast_chunks(history, until, horizon_h=horizon_h, history_days=history_days,
                                chunk_series=chunk_series))
    skipped = {key: why for fit in fits for key, why in (fit.skipped or {}).items()} or None
    rows = [fit.rows for fit in fits if not fit.rows.empty]
    if not rows:
        return Fit(pd.DataFrame(columns=COLUMNS), reason=fits[0].reason or "no series could be fitted",
                   skipped=skipped)
    return Fit(pd.concat(rows, ignore_index=True), skipped=skipped)


def forecast_chunks(history: pd.DataFrame, until: datetime, *, horizon_h: int = HORIZON_H,
                    history_days: int = HISTORY_DAYS, chunk_series: int = CHUNK_SERIES) -> Iterator[Fit]:
    """`forecast`, `chunk_series` series at a time (each series is fitted on its own, so the rows
    are the same): memory stays that of one chunk whatever the number of SKUs × markets (the
    reference scale has 12,000 series, 8M history hours, 8.6M forecast hours). At least one Fit;
    a reason on the first when nothing can be fitted at all."""
    until = hour_floor(until)
    if history.empty:
        yield Fit(pd.DataFrame(columns=COLUMNS), reason="no order history before the forecast start")
        return
    hours = pd.to_datetime(history["hour"], utc=True)
    start = max(hours.min().floor("h"), until - pd.Timedelta(days=history_days))
    history = history[hours >= start]
    n_hours = int((until - start) / pd.Timedelta(hours=1))
    name, model = _model_for(n_hours)
    keys = history[["sku", "market"]].drop_duplicates(ignore_index=True)
    if model is None:
        why = f"only {n_hours} h of order history; the forecast needs at least {2 * DAY} h"
        yield Fit(pd.DataFrame(columns=COLUMNS), reason=why,
                  skipped={k: why for k in keys.itertuples(index=False, name=None)})
        return
    for first in range(0, len(keys), chunk_series):
        part = history.merge(keys.iloc[first:first + chunk_series], on=["sku", "market"])
        yield _forecast_series(dense(part, start, until), until, n_hours, name, model, horizon_h)


def _forecast_series(series: pd.DataFrame, until: pd.Timestamp, n_hours: int, name: str, model,
                     horizon_h: int) -> Fit:
    """Fit the dense (sku, market, hour, units) series of one chunk."""
    keys = list(series[["sku", "market"]].drop_duplicates().itertuples(index=False, name=None))
    ids = {k: str(i) for i, k in enumerate(keys)}
    frame = pd.DataFrame({
        "unique_id": [ids[(s, m)] for s, m in zip(series["sku"], series["market"])],
        "ds": series["hour"].dt.tz_localize(None), "y": series["units"].to_numpy(float)})
    skipped: dict[tuple[str, str], str] = {}
    flat = frame.groupby("unique_id")["y"].transform("std").fillna(0) == 0
    for uid in frame.loc[flat, "unique_id"].unique():  # MSTL cannot decompose a constant series
        skipped[keys[int(uid)]] = "no variation in its history (constant), forecast as that constant"
    scale = _calibration(frame[~flat], n_hours)
    fitted = _fit(frame[~flat], name, model, horizon_h, scale)
    constant = _constant(frame[flat], until, horizon_h)
    out = pd.concat([f for f in (fitted, constant) if not f.empty]) if len(fitted) + len(constant) else fitted
    if out.empty:
        return Fit(pd.DataFrame(columns=COLUMNS), skipped=skipped or None)
    sku_market = pd.DataFrame(keys, columns=["sku", "market"]).assign(unique_id=[str(i) for i in range(len(keys))])
    out = out.merge(sku_market, on="unique_id")
    out["hour"] = pd.to_datetime(out["ds"]).dt.tz_localize("UTC")
    for col in ("mean", "lo80", "hi80", "lo95", "hi95"):  # units sold are never negative
        out[col] = out[col].clip(lower=0.0)
    return Fit(out[COLUMNS].reset_index(drop=True), skipped=skipped or None)


def forecast_to_parquet(history: pd.DataFrame, until: datetime, path: str, **options) -> Written:
    """`forecast`, its rows appended chunk by chunk to a Parquet file at `path` (none when there
    are no rows) rather than returned: the refit's child process never holds them all, and the
    app server streams them into DuckDB instead of unpickling 8.6M rows into its own memory."""
    writer, rows, series, skipped, reason = None, 0, 0, {}, None
    try:
        for fit in forecast_chunks(history, until, **options):
            skipped.update(fit.skipped or {})
            reason = fit.reason
            if fit.rows.empty:
                continue
            table = pa.Table.from_pandas(fit.rows, schema=PARQUET_SCHEMA, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, PARQUET_SCHEMA)
            writer.write_table(table)
            rows += len(fit.rows)
            series += int(fit.rows[["sku", "market"]].drop_duplicates().shape[0])
    finally:
        if writer is not None:
            writer.close()
    if not rows:
        reason = reason or "no series could be fitted"
    return Written(rows, series, None if rows else reason, skipped or None)


def _calibration(frame: pd.DataFrame, n_hours: int) -> dict[str, float]:
    """Per series, how much wider its intervals must be: MSTL's intervals come from the remainder
    after the seasonal fit, which has soaked up part of the noise, so they come out too narrow
    (80 % intervals covered ~68 % of held-out hours in tests/test_twin_forecast.py before this).
    Hold out the last week (a quarter of a short history), forecast it from the rest, and compare
    the real errors with the predicted σ (on √units). Clipped to [1, 3]: never narrower."""
    holdout = min(WEEK, n_hours // 4)
    _, model = _model_for(n_hours - holdout)
    if frame.empty or model is None or holdout < DAY:
        return {}
    cut = frame["ds"].max() - pd.Timedelta(hours=holdout - 1)
    train, test = frame[frame["ds"] < cut], frame[frame["ds"] >= cut]
    raw = StatsForecast(models=[model], freq="h", n_jobs=1).forecast(
        df=train.assign(y=np.sqrt(train["y"])), h=holdout, level=[80])
    col = type(model).__name__
    both = raw.merge(test.assign(unique_id=test["unique_id"].astype(str)), on=["unique_id", "ds"])
    err = np.sqrt(both["y"]) - both[col]
    sigma = (both[f"{col}-hi-80"] - both[col]) / Z80
    ratio = (err.pow(2).groupby(both["unique_id"]).mean() / sigma.pow(2).groupby(both["unique_id"]).mean()) ** 0.5
    return ratio.clip(1.0, 3.0).fillna(1.0).to_dict()


def _fit(frame: pd.DataFrame, name: str, model, horizon_h: int, scale: dict[str, float]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    # Counts: the spread grows with the level (Poisson-like), which Gaussian ETS intervals ignore.
    # Fit on √units, where the spread is about constant, and square back: quantiles carry over
    # exactly through a monotone map; the mean gets the variance term back (E[y] = m² + σ²).
    sf = StatsForecast(models=[model], freq="h", n_jobs=1)  # two shared cores: no worker pool
    raw = sf.forecast(df=frame.assign(y=np.sqrt(frame["y"].clip(lower=0))), h=horizon_h, level=list(LEVELS))
    col = type(model).__name__
    m = raw[col].to_numpy(float)
    widen = raw["unique_id"].astype(str).map(scale).fillna(1.0).to_numpy(float)
    sigma = (raw[f"{col}-hi-80"].to_numpy(float) - m) / Z80 * widen

    def back(q):
        return np.square(np.clip(m + (raw[q].to_numpy(float) - m) * widen, 0, None))

    return pd.DataFrame({
        "unique_id": raw["unique_id"].astype(str), "ds": raw["ds"], "mean": np.square(np.clip(m, 0, None)) + sigma ** 2,
        "lo80": back(f"{col}-lo-80"), "hi80": back(f"{col}-hi-80"),
        "lo95": back(f"{col}-lo-95"), "hi95": back(f"{col}-hi-95"), "model": name})


def _constant(frame: pd.DataFrame, until: pd.Timestamp, horizon_h: int) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    level = frame.groupby("unique_id")["y"].first()
    ds = pd.date_range(until.tz_localize(None), periods=horizon_h, freq="h")
    parts = [pd.DataFrame({"unique_id": uid, "ds": ds, "mean": v, "lo80": v, "hi80": v, "lo95": v, "hi95": v,
                           "model": "constant"}) for uid, v in level.items()]
    return pd.concat(parts)


# ── the stored forecast ─────────────────────────────────────────────────────────────────────────
def parquet_batches(path: str, rows: int = 65_536) -> pa.RecordBatchReader:
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


def refresh(db, now: datetime, *, horizon_h: int = HORIZON_H, history_days: int = HISTORY_DAYS,
            force: bool = False, aside: bool = False) -> Refresh:
    """Refit and store the forecast when the completed-hour order history changed since the last
    fit (or `force`). Cheap to call on a timer: an unchanged history costs one small query.
    `aside`: fit in a low-priority child process (tower.aside), as the app server does."""
    until = hour_floor(now)
    start = until - pd.Timedelta(days=history_days)
    span = {"from": start.to_pydatetime(), "until": until.to_pydatetime()}
    key = str(db.query("twin/own_forecast_history_key", span)["history_key"].iloc[0])
    last = db.query("twin/own_forecast_last_fit")
    if not force and not last.empty and last["history_key"].iloc[0] == key:
        return Refresh("skipped", reason="order history unchanged since the last fit")
    began = time.perf_counter()
    history = db.query("twin/own_forecast_history", span)
    options = {"horizon_h": horizon_h, "history_days": history_days}
    with tempfile.TemporaryDirectory(prefix="tower-forecast-") as folder:
        path = str(Path(folder) / "fit.parquet")
        args = (history, until.to_pydatetime(), path)
        written = (tower_aside.run(forecast_to_parquet, *args, **options) if aside
                   else forecast_to_parquet(*args, **options))
        del history, args  # not held while the rows are stored
        seconds = time.perf_counter() - began
        with db.cursor() as cur:
            cur.begin()
            try:
                cur.execute(queries.load("twin/own_forecast_clear"))
                if written.rows:
                    store_rows(cur, path, utc(now))
                cur.execute(queries.load("twin/own_forecast_fit_log"), {
                    "fitted_at": utc(now), "history_key": key, "history_from": span["from"],
                    "history_until": span["until"], "series": written.series, "rows_written": written.rows,
                    "seconds": seconds, "reason": written.reason})
                cur.commit()
            except Exception:
                cur.rollback()  # nothing half-written: the previous fit stays
                raise
    log.info("twin forecast: %d series, %d rows in %.1f s%s", written.series, written.rows, seconds,
             f" ({written.reason})" if written.reason else "")
    return Refresh("fitted" if written.rows else "empty", written.series, written.rows, seconds,
                   written.reason)


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


def after_sync(db, clock, min_interval_s: float = 600.0) -> Callable[[str, object], threading.Thread | None]:
    """A `connectors.scheduler.Scheduler.after_sync` callback: after any sync, refresh the forecast
    in a background thread (a refit takes seconds; the scheduler must not wait), one at a time and
    at most every `min_interval_s` wall seconds (a full refit of the default world costs ~18 s of
    CPU; an accelerated sandbox completes an hour of history every wall minute). An unchanged
    history makes the refresh a single small query, so no source filter is needed."""
    busy = threading.Lock()
    last_start = [float("-inf")]

    def work() -> None:
        try:
            refresh(db, clock.now(), aside=True)  # minutes of CPU at scale: never the screens' CPU
        except Exception:  # noqa: BLE001 - a failed refit keeps the previous forecast; say why in the log
            log.exception("twin forecast refresh failed")
        finally:
            busy.release()

    def callback(source: str, result: object) -> threading.Thread | None:
        if time.monotonic() - last_start[0] < min_interval_s:
            return None
        if not busy.acquire(blocking=False):
            return None            # a refit is already running: it reads the newest history anyway
        last_start[0] = time.monotonic()
        thread = threading.Thread(target=work, name="twin-forecast", daemon=True)
        thread.start()
        return thread
    return callback

