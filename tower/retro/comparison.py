"""Event vs baseline: every KPI side by side, demand totals, and the hour-by-hour series on an
event-relative axis (hour 0 = the event's first hour) so two windows overlay."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from tower import kpis
from tower.clock import utc
from tower.retro.data import run
from tower.retro.windows import Window, py_datetime


def verdict(delta: float | None, better: str) -> str | None:
    """'better' / 'worse' / 'same' for a change in a KPI whose `better` is 'higher' or 'lower'."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return None
    if abs(delta) < 1e-9:
        return "same"
    return "better" if (delta > 0) == (better == "higher") else "worse"


def kpi_value(db, name: str, window: Window, params: dict) -> tuple[float | None, int]:
    """(value, n) of one KPI over `window`: the ONE place the retro asks the KPI layer for a number.
    When the semantic layer's table macros `kpi_<name>(window_start, as_of, …)` land, only this
    function changes."""
    return kpis.value(db, name, window.params(params))


def compare_kpis(db, event: Window, base: Window, params: dict,
                 names: list[str] | None = None) -> pd.DataFrame:
    """Every KPI (tower.kpis) over the event and the baseline window, side by side, with the
    difference (event − baseline, in the KPI's unit) and whether it is better or worse. A KPI whose
    query fails gets its error in `error` instead of breaking the table."""
    rows = []
    for name in names or sorted(kpis.catalog()):
        kpi = kpis.get(name)
        row = {"kpi": name, "label": kpi.label, "label_zh": kpi.label_zh, "unit": kpi.unit,
               "better": kpi.better, "format": kpi.format, "error": None}
        try:
            ev, ev_n = kpi_value(db, name, event, params)
            bl, bl_n = kpi_value(db, name, base, params)
        except duckdb.Error as e:
            rows.append({**row, "event": None, "event_n": 0, "baseline": None, "baseline_n": 0,
                         "delta": None, "verdict": None, "error": f"{type(e).__name__}: {e}"[:300]})
            continue
        delta = ev - bl if ev is not None and bl is not None else None
        rows.append({**row, "event": ev, "event_n": ev_n, "baseline": bl, "baseline_n": bl_n,
                     "delta": delta, "verdict": verdict(delta, kpi.better)})
    return pd.DataFrame(rows)


def compare_totals(db, event: Window, base: Window, params: dict) -> pd.DataFrame:
    """Orders, units and revenue in the event vs the baseline, with the change in percent (more
    demand counts as better)."""
    ev = run(db, "retro/window_totals", event.params(params))
    bl = run(db, "retro/window_totals", base.params(params))
    rows = []
    for measure in ("orders", "units", "revenue"):
        e, b = float(ev[measure].iloc[0]), float(bl[measure].iloc[0])
        change = (e - b) / b * 100 if b else None
        rows.append({"measure": measure, "event": e, "baseline": b, "delta": e - b,
                     "change_pct": change, "verdict": verdict(e - b, "higher")})
    return pd.DataFrame(rows)


SERIES_COLUMNS = ["hour_offset", "orders", "units", "delivered", "on_time", "on_time_rate"]
COUNT_COLUMNS = ("orders", "units", "delivered", "on_time")


def relative_series(db, window: Window, params: dict, pre_hours: int = 6,
                    post_hours: int = 6) -> pd.DataFrame:
    """Per hour relative to the window's start (0 = the first hour of the event, −1 the hour before
    it), from `pre_hours` before the start to `post_hours` after the end: orders, units and the
    on-time rate of deliveries in that hour. Every hour of the range is present so two windows
    overlay hour by hour: zeros where nothing happened, but NaN for hours that start at or after
    `params["now"]` — an hour that has not happened yet sold nothing *yet*, and drawing it as 0
    would show a collapse that never took place (on_time_rate is also NaN without deliveries)."""
    span = Window(window.start - timedelta(hours=pre_hours), window.end + timedelta(hours=post_hours))
    found = run(db, "retro/hourly", {**params, "anchor": window.start, "start": span.start,
                                     "end": span.end})
    last = math.ceil((window.end - window.start).total_seconds() / 3600) + post_hours
    frame = pd.DataFrame({"hour_offset": range(-pre_hours, last)})
    out = frame.merge(found, on="hour_offset", how="left") if len(found) else frame.assign(
        **{c: None for c in SERIES_COLUMNS[1:]})
    for col in COUNT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(float)
    out["on_time_rate"] = pd.to_numeric(out["on_time_rate"], errors="coerce")
    now = params.get("now")
    if now is not None:
        hour_starts = [window.start + timedelta(hours=int(h)) for h in out["hour_offset"]]
        future = pd.Series([start >= utc(py_datetime(now)) for start in hour_starts], index=out.index)
        out.loc[future, list(SERIES_COLUMNS[1:])] = float("nan")
    return out[SERIES_COLUMNS]


def relative_hours(ts, anchor: datetime) -> float:
    """Hours from `anchor` to `ts` (negative before it): where a marker sits on the relative axis."""
    return (utc(py_datetime(ts)) - utc(anchor)).total_seconds() / 3600.0
