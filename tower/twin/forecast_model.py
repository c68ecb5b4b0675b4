"""Tower's demand forecast model, fitted in the refit's child process (tower.aside), never in the
app server: statsforecast and what it pulls in (scipy, statsmodels, fugue) add ~100 MB and ~1 s of
imports to any process that loads them, so only this module imports them and only the child loads
it (tower.twin.forecast hands it over by name).

Library: statsforecast (Nixtla). Measured here (2 shared cores): import 1.4 s, first MSTL fit of a
four-week hourly series 0.2 s, the second the same — statsforecast 2.x no longer compiles with numba
(its kernels are coreforecast's C++), so there is no first-call cost to dodge with a lighter model.
MSTL takes both seasonalities of shop demand at once (hour of day, 24; day of week, 168) and hands
the deseasonalised rest to AutoETS, whose intervals are analytic (no bootstrap, no extra cost).
statsmodels ETS takes one seasonality only; a 168-hour seasonal ETS has 168 states to fit.

At scale it fits `CHUNK_SERIES` series at a time and appends their rows to a Parquet file, so
the child never holds the 8.6M forecast rows of the reference scale at once (bench/README.md,
"Forecast refit")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS

from tower.twin.forecast import DAY, HISTORY_DAYS, HORIZON_H, PARQUET_SCHEMA, WEEK, hour_floor

LEVELS = (80, 95)
Z80 = 1.2815515655446004  # standard normal quantile of 0.9: half an 80 % interval in σ
COLUMNS = ["sku", "market", "hour", "mean", "lo80", "hi80", "lo95", "hi95", "model"]
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


def fit_file(history_path: str, until: datetime, path: str, **options) -> Written:
    """`forecast_to_parquet` on the history Parquet file the server wrote
    (tower.twin.forecast.refresh): what the refit's child runs."""
    return forecast_to_parquet(pd.read_parquet(history_path), until, path, **options)
