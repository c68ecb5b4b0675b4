"""The retro, without Streamlit: event windows and their baselines, the event-relative time axis,
replay of the war room at a past moment, per-link scorecards, lost sales from stockouts, the
resilience ROI of the backup tiers, and the exports (a self-contained HTML report and a Parquet
data pack).

Everything reads the stored history through named queries in queries/retro/ and queries/kpi/ with
bound parameters, and takes "now" from the caller (the runtime clock), so a retro computed later
shows the same numbers and replay can ask "as of 10:00"."""
from __future__ import annotations

import html
import io
import json
import logging
import math
import re
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

import queries
from tower import kpis
from tower.clock import utc

log = logging.getLogger("tower.retro")

BASELINES = ("previous", "last_week", "last_year", "event")
DEFAULT_LOOKBACK_HOURS = 4.0     # pre-stockout pace: the same 4 h the hours-to-stockout KPI uses
DEFAULT_ACK_TARGET_MINUTES = 60.0
BACKUP_LOOKBACK_DAYS = 14.0      # backup POs ordered this long before the event still count for it
REPLAY_KPIS = kpis.WAR_ROOM
LINK_TYPES = ("supplier", "carrier", "warehouse", "market")


# ── windows and baselines ──────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) in UTC, optionally the window of a stored event."""
    start: datetime
    end: datetime
    label: str = ""
    event_id: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "start", utc(_py(self.start)))
        object.__setattr__(self, "end", utc(_py(self.end)))

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def shifted(self, delta: timedelta, label: str) -> Window:
        return Window(self.start + delta, self.end + delta, label)

    def elapsed(self, now: datetime) -> Window:
        """The part of the window that has happened by `now` (all of it once it is over)."""
        end = max(min(self.end, utc(_py(now))), self.start)
        return Window(self.start, end, self.label, self.event_id)

    def params(self, base: dict | None = None) -> dict:
        """`base` (the page's filter params) with this window as $start/$end."""
        return {**(base or {}), "start": self.start, "end": self.end}


def _py(ts) -> datetime:
    return ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts


def baseline(event: Window, kind: str, other: Window | None = None,
             now: datetime | None = None) -> Window:
    """The window to compare `event` with:
    previous  — the window of the same length just before it;
    last_week — the same hours 7 days earlier;
    last_year — the same hours 52 weeks earlier (364 days: the same weekday, which matters more for
                retail demand than the calendar date);
    event     — another event's window (`other`), cut to the event's length, so both cover the
                same hours counted from their start.
    With `now`, an event still running is compared on the hours it has had so far: the first
    10 hours of a 24-hour promotion against 10 hours of the baseline, never against a full day."""
    if now is not None:
        event = event.elapsed(now)
    if kind == "event":
        if other is None:
            raise ValueError("baseline 'event' needs the other event's window")
        return Window(other.start, min(other.end, other.start + event.length), other.label, other.event_id)
    if kind == "previous":
        return Window(event.start - event.length, event.start, "previous")
    if kind == "last_week":
        return event.shifted(-timedelta(days=7), "last_week")
    if kind == "last_year":
        return event.shifted(-timedelta(weeks=52), "last_year")
    raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")


# ── events: planning source, config and UI ─────────────────────────────────────────────────────
EVENT_COLUMNS = ["event_id", "name", "starts_at", "ends_at", "kind", "source"]


def config_events(raw: dict | None) -> tuple[pd.DataFrame, list[str]]:
    """`[[events]]` tables of tower.toml (name, starts_at, ends_at, optional id/event_id and kind)
    as event rows with source 'config', plus a message per entry that was skipped (never raises:
    a typo in the config must not hide the other events)."""
    rows, problems = [], []
    entries = (raw or {}).get("events", [])
    if not isinstance(entries, list):
        return pd.DataFrame(columns=EVENT_COLUMNS), ["[[events]] must be an array of tables"]
    for i, entry in enumerate(entries):
        where = f"[[events]] #{i + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a table")
            continue
        try:
            start, end = _when(entry.get("starts_at")), _when(entry.get("ends_at"))
        except (TypeError, ValueError) as e:
            problems.append(f"{where}: {e}")
            continue
        if start is None or end is None or end <= start:
            problems.append(f"{where}: needs starts_at before ends_at")
            continue
        name = str(entry.get("name") or "").strip() or f"Event {start:%Y-%m-%d %H:%M}"
        kind = entry.get("kind", "promotion")
        if kind not in ("promotion", "disruption"):
            problems.append(f"{where}: kind must be promotion or disruption")
            continue
        event_id = str(entry.get("event_id") or entry.get("id") or new_event_id(name, start, "cfg"))
        rows.append({"event_id": event_id, "name": name, "starts_at": start, "ends_at": end,
                     "kind": kind, "source": "config"})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS), problems


def _when(value) -> datetime | None:
    """A TOML datetime/date or ISO text as aware UTC (naive = UTC); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if hasattr(value, "isoformat") and not isinstance(value, str):  # a TOML date
        return datetime.fromisoformat(value.isoformat()).replace(tzinfo=UTC)
    if isinstance(value, str):
        return utc(datetime.fromisoformat(value.strip()))
    raise TypeError(f"not a date/time: {value!r}")


def list_events(db, raw_config: dict | None = None) -> pd.DataFrame:
    """Every event: the stored ones (planning source, UI) and the config's, newest first. A stored
    event with the same id wins over the config copy (it may have been edited in the UI)."""
    stored = db.query("retro/events")
    configured, problems = config_events(raw_config)
    for p in problems:
        log.warning("config events: %s", p)
    frames = [f for f in (stored, configured) if len(f)]
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    events = pd.concat(frames, ignore_index=True)
    for col in ("starts_at", "ends_at"):
        events[col] = pd.to_datetime(events[col], utc=True)
    events = events.drop_duplicates("event_id", keep="first")
    return events.sort_values(["starts_at", "event_id"], ascending=[False, True]).reset_index(drop=True)


def new_event_id(name: str, starts_at: datetime, prefix: str = "ui") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "event"
    return f"{prefix}-{slug}-{utc(starts_at):%Y%m%d%H%M}"


def create_event(db, name: str, starts_at: datetime, ends_at: datetime, now: datetime,
                 kind: str = "promotion") -> str:
    """Store an event created in the UI (source 'ui'); returns its id. Bad input raises ValueError
    with a message fit to show, and writes nothing."""
    name = (name or "").strip()
    if not name:
        raise ValueError("name is required")
    if len(name) > 200:
        raise ValueError("name is longer than 200 characters")
    if kind not in ("promotion", "disruption"):
        raise ValueError("kind must be promotion or disruption")
    start, end = utc(starts_at), utc(ends_at)
    if end <= start:
        raise ValueError("the end must be after the start")
    event_id = new_event_id(name, start)
    _execute(db, "retro/event_upsert", {"event_id": event_id, "name": name, "starts_at": start,
                                         "ends_at": end, "kind": kind, "source": "ui",
                                         "updated_at": utc(now)})
    return event_id


def add_annotation(db, text: str, author: str, happened_at: datetime, now: datetime,
                   event_id: str | None = None) -> int:
    """Store a note about a moment; returns its id. Empty text raises ValueError (nothing written)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("the note is empty")
    author = (author or "").strip()[:100] or "anonymous"
    with db.cursor() as cur:
        row = cur.execute(queries.load("retro/annotation_insert"), {
            "event_id": event_id, "happened_at": utc(happened_at), "author": author,
            "text": text[:2000], "created_at": utc(now)}).fetchone()
    return int(row[0])


def _execute(db, name: str, params: dict) -> None:
    with db.cursor() as cur:
        cur.execute(queries.load(name), params)


def has_table(db, table: str) -> bool:
    return table in set(db.query("retro/tables")["table_name"])


# ── event vs baseline ──────────────────────────────────────────────────────────────────────────
def verdict(delta: float | None, better: str) -> str | None:
    """'better' / 'worse' / 'same' for a change in a KPI whose `better` is 'higher' or 'lower'."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return None
    if abs(delta) < 1e-9:
        return "same"
    return "better" if (delta > 0) == (better == "higher") else "worse"


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
            ev, ev_n = kpis.value(db, name, event.params(params))
            bl, bl_n = kpis.value(db, name, base.params(params))
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
    ev = _run(db, "retro/window_totals", event.params(params))
    bl = _run(db, "retro/window_totals", base.params(params))
    rows = []
    for measure in ("orders", "units", "revenue"):
        e, b = float(ev[measure].iloc[0]), float(bl[measure].iloc[0])
        change = (e - b) / b * 100 if b else None
        rows.append({"measure": measure, "event": e, "baseline": b, "delta": e - b,
                     "change_pct": change, "verdict": verdict(e - b, "higher")})
    return pd.DataFrame(rows)


def _run(db, name: str, params: dict) -> pd.DataFrame:
    """A named query with exactly the parameters it uses (missing ones NULL = all)."""
    return kpis.run(db, name, params)


# ── event-relative time axis ───────────────────────────────────────────────────────────────────
SERIES_COLUMNS = ["hour_offset", "orders", "units", "delivered", "on_time", "on_time_rate"]


def relative_series(db, window: Window, params: dict, pre_hours: int = 6,
                    post_hours: int = 6) -> pd.DataFrame:
    """Per hour relative to the window's start (0 = the first hour of the event, −1 the hour before
    it), from `pre_hours` before the start to `post_hours` after the end: orders, units and the
    on-time rate of deliveries in that hour. Every hour of the range is present (zeros where
    nothing happened; on_time_rate NaN without deliveries), so two windows overlay hour by hour."""
    span = Window(window.start - timedelta(hours=pre_hours), window.end + timedelta(hours=post_hours))
    found = _run(db, "retro/hourly", {**params, "anchor": window.start, "start": span.start,
                                      "end": span.end})
    last = math.ceil((window.end - window.start).total_seconds() / 3600) + post_hours
    frame = pd.DataFrame({"hour_offset": range(-pre_hours, last)})
    out = frame.merge(found, on="hour_offset", how="left") if len(found) else frame.assign(
        **{c: None for c in SERIES_COLUMNS[1:]})
    for col in ("orders", "units", "delivered", "on_time"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(int)
    out["on_time_rate"] = pd.to_numeric(out["on_time_rate"], errors="coerce")
    return out[SERIES_COLUMNS]


def relative_hours(ts, anchor: datetime) -> float:
    """Hours from `anchor` to `ts` (negative before it): where a marker sits on the relative axis."""
    return (utc(_py(ts)) - utc(anchor)).total_seconds() / 3600.0


# ── timeline ───────────────────────────────────────────────────────────────────────────────────
def alert_timeline(db, window: Window, now: datetime,
                   ack_target_minutes: float = DEFAULT_ACK_TARGET_MINUTES) -> pd.DataFrame | None:
    """Alerts opened in the window with time to acknowledge / resolve; None when the alerts table
    does not exist (the alerts migration is absent), an empty frame when there were none."""
    if not has_table(db, "alerts"):
        return None
    return db.query("retro/alert_timeline", {"start": window.start, "end": window.end, "now": utc(now),
                                             "ack_target_minutes": float(ack_target_minutes)})


def annotations(db, window: Window, event_id: str | None = None) -> pd.DataFrame:
    return db.query("retro/annotations", {"event_id": event_id, "start": window.start, "end": window.end})


def disruptions(db, window: Window) -> pd.DataFrame:
    return db.query("retro/disruptions", {"start": window.start, "end": window.end})


# ── replay ─────────────────────────────────────────────────────────────────────────────────────
@dataclass
class Replay:
    at: datetime
    stock: pd.DataFrame        # retro/replay_stock
    in_transit: pd.DataFrame   # retro/replay_in_transit
    tiles: list                # tower.kpis.Tile with $end = at


def replay(db, at: datetime, params: dict, window_start: datetime | None = None,
           targets: kpis.Targets | None = None) -> Replay:
    """The war room as it was at `at`, rebuilt from the stored history: stock from observations at
    or before `at`, shipments on the way then with their status then, and the KPI tiles computed
    with $end = at (windowed KPIs count from `window_start`, else the 24 h before `at`)."""
    at = utc(_py(at))
    stock = _run(db, "retro/replay_stock", {**params, "at": at})
    moving = _run(db, "retro/replay_in_transit", {**params, "at": at})
    start = utc(_py(window_start)) if window_start is not None and utc(_py(window_start)) < at \
        else at - timedelta(hours=24)
    tiles = kpis.tiles(db, REPLAY_KPIS, {**params, "start": start, "end": at}, targets)
    return Replay(at, stock, moving, tiles)


# ── stockouts and lost sales ───────────────────────────────────────────────────────────────────
def stockouts(db, window: Window, params: dict,
              lookback_hours: float = DEFAULT_LOOKBACK_HOURS) -> pd.DataFrame:
    """Stockout spells in the window with the lost-sales estimate of each:
    rate_per_hour = units sold in the `lookback_hours` before it went to 0 ÷ lookback_hours;
    lost_units = stockout hours (inside the window) × rate_per_hour; lost_sales = lost_units × price."""
    lookback = max(float(lookback_hours), 0.25)
    found = _run(db, "retro/stockout_episodes", {**window.params(params), "lookback_hours": lookback})
    if found.empty:
        return found.assign(rate_per_hour=pd.Series(dtype=float), lost_units=pd.Series(dtype=float),
                            lost_sales=pd.Series(dtype=float))
    out = found.copy()
    out["rate_per_hour"] = out["pre_units"].astype(float) / lookback
    out["lost_units"] = out["hours"].astype(float) * out["rate_per_hour"]
    out["lost_sales"] = out["lost_units"] * pd.to_numeric(out["unit_price"], errors="coerce").fillna(0.0)
    return out


def lost_sales_total(episodes: pd.DataFrame) -> dict:
    if episodes.empty:
        return {"stockout_hours": 0.0, "lost_units": 0.0, "lost_sales": 0.0, "spells": 0}
    return {"stockout_hours": float(episodes["hours"].sum()),
            "lost_units": float(episodes["lost_units"].sum()),
            "lost_sales": float(episodes["lost_sales"].sum()), "spells": len(episodes)}


# ── per-link scorecards ────────────────────────────────────────────────────────────────────────
def scorecards(db, window: Window, params: dict, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """retro/scorecard plus stockout hours per link: a warehouse's are its pairs' hours, a market's
    those of the warehouses serving it, a supplier's those of the sku × warehouse pairs it has
    purchase orders for; carriers hold no stock (NaN)."""
    cards = _run(db, "retro/scorecard", window.params(params))
    episodes = stockouts(db, window, params) if episodes is None else episodes
    hours = {}
    if not episodes.empty:
        hours["warehouse"] = episodes.groupby("warehouse_id")["hours"].sum()
        hours["market"] = episodes.groupby("market")["hours"].sum()
        pairs = db.query("retro/supplier_pairs")
        if len(pairs):
            per_pair = episodes.groupby(["sku", "warehouse_id"], as_index=False)["hours"].sum()
            hours["supplier"] = pairs.merge(per_pair, on=["sku", "warehouse_id"]).groupby(
                "supplier_id")["hours"].sum()
    for link_type, series in hours.items():  # a link with stockouts but no other activity still shows
        known = set(cards.loc[cards["link_type"] == link_type, "link_id"])
        extra = [{"link_type": link_type, "link_id": k, "name": k, "n": 0, "on_time_pct": None,
                  "delays": 0, "exceptions": 0} for k in series.index if k not in known]
        if extra:
            cards = pd.concat([cards, pd.DataFrame(extra)], ignore_index=True)

    def stockout_hours(row) -> float:
        if row["link_type"] == "carrier":
            return float("nan")
        return float(hours.get(row["link_type"], pd.Series(dtype=float)).get(row["link_id"], 0.0))

    cards["stockout_hours"] = cards.apply(stockout_hours, axis=1) if len(cards) else pd.Series(dtype=float)
    return cards.sort_values(["link_type", "delays", "link_id"], ascending=[True, False, True],
                             ignore_index=True)


# ── resilience ROI ─────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class RoiInputs:
    """What the backup tiers (the seeds' 20 % backup and 10 % emergency suppliers) cost and earned.

    backup_units      units the backup/emergency tiers supplied for the event
    unit_margin       what one sold unit earns (price − cost)
    premium_per_unit  extra cost of a backup unit over a primary one (air freight, higher price)
    fixed_cost        reserved capacity fees for the event
    extra_units       surge units sold above the baseline beyond the backup units themselves
                      (kept apart so a unit is never counted twice)"""
    backup_units: float = 0.0
    unit_margin: float = 0.0
    premium_per_unit: float = 0.0
    fixed_cost: float = 0.0
    extra_units: float = 0.0


@dataclass(frozen=True)
class RoiResult:
    avoided_loss: float   # backup_units × unit_margin: margin the primary outage would have cost
    extra_sales: float    # extra_units × unit_margin
    cost: float           # backup_units × premium_per_unit + fixed_cost
    net: float            # avoided_loss + extra_sales − cost
    roi: float | None     # net ÷ cost (1.5 = 150 %); None when the backup cost nothing


def roi(inputs: RoiInputs) -> RoiResult:
    clean = {k: max(float(v or 0.0), 0.0) if not _nan(v) else 0.0 for k, v in asdict(inputs).items()}
    i = RoiInputs(**clean)
    avoided = i.backup_units * i.unit_margin
    extra = i.extra_units * i.unit_margin
    cost = i.backup_units * i.premium_per_unit + i.fixed_cost
    net = avoided + extra - cost
    return RoiResult(avoided, extra, cost, net, net / cost if cost > 0 else None)


def _nan(v) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def roi_defaults(db, event: Window, params: dict, totals: pd.DataFrame | None = None) -> RoiInputs:
    """Defaults from the data: backup units on backup/emergency POs ordered from 14 days before the
    event to its end; margin = average price − cost of the units sold; premium = average backup
    unit cost − primary unit cost (never below 0); extra units = units sold above the baseline
    minus the backup units (from `totals`, a compare_totals frame), never below 0."""
    row = _run(db, "retro/roi_inputs", {**event.params(params), "lookback_days": BACKUP_LOOKBACK_DAYS}).iloc[0]
    num = lambda v: 0.0 if _nan(v) else float(v)
    backup_units = num(row["backup_units"])
    margin = max(num(row["unit_price"]) - num(row["unit_cost"]), 0.0)
    premium = max(num(row["backup_unit_cost"]) - num(row["primary_unit_cost"]), 0.0) \
        if not _nan(row["backup_unit_cost"]) and not _nan(row["primary_unit_cost"]) else 0.0
    extra = 0.0
    if totals is not None and len(totals):
        units = totals.set_index("measure").loc["units"]
        extra = max(float(units["event"]) - float(units["baseline"]) - backup_units, 0.0)
    return RoiInputs(backup_units, round(margin, 2), round(premium, 2), 0.0, extra)


# ── exports ────────────────────────────────────────────────────────────────────────────────────
PACK_TABLES = ("orders", "order_lines", "shipments", "tracking_events", "stock_observations",
               "alerts", "alert_log", "annotations")


def pack_frames(db, window: Window, params: dict) -> dict[str, pd.DataFrame]:
    """The tables of the data pack for `window` (see the queries/retro/pack_*.sql headers).
    Alert tables are empty frames when the alerts migration is absent."""
    bounds = window.params(params)
    frames = {
        "orders": _run(db, "retro/pack_orders", bounds),
        "order_lines": _run(db, "retro/pack_order_lines", bounds),
        "shipments": _run(db, "retro/pack_shipments", bounds),
        "tracking_events": _run(db, "retro/pack_tracking_events", bounds),
        "stock_observations": _run(db, "retro/pack_stock_observations", bounds),
        "annotations": annotations(db, window, window.event_id),
    }
    if has_table(db, "alerts"):
        frames["alerts"] = _run(db, "retro/pack_alerts", bounds)
        frames["alert_log"] = _run(db, "retro/alert_log", bounds)
    else:
        frames["alerts"], frames["alert_log"] = pd.DataFrame(), pd.DataFrame()
    return {name: frames[name] for name in PACK_TABLES}


def data_pack(db, window: Window, params: dict, now: datetime) -> bytes:
    """A zip of one Parquet file per table (PACK_TABLES) plus manifest.json (window, filters,
    generated_at, row counts per table), built in memory: nothing is written to disk, so it works
    on the hardened live database too. Load it back with DuckDB's read_parquet."""
    frames = pack_frames(db, window, params)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, frame in frames.items():
            zf.writestr(f"{name}.parquet", _parquet(frame))
        manifest = {
            "kind": "tower-retro-data-pack",
            "event_id": window.event_id,
            "label": window.label,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "filters": {k: params.get(k) for k in ("merchant", "channel", "market")},
            "generated_at": utc(now).isoformat(),
            "tables": {name: {"file": f"{name}.parquet", "rows": len(frame)}
                       for name, frame in frames.items()},
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buf.getvalue()


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


@dataclass(frozen=True)
class Section:
    """One block of the HTML report: a heading, optional text, a Plotly figure and/or a table."""
    title: str
    text: str = ""
    figure: object | None = None        # plotly.graph_objects.Figure
    table: pd.DataFrame | None = None


def report_html(title: str, subtitle: str, sections: list[Section], lang: str = "en") -> str:
    """A self-contained HTML report: plotly.js is inlined once (no CDN, no fonts or scripts from the
    network), so the file opens offline and can be mailed around. Text and cells are escaped."""
    parts, js_included = [], False
    for s in sections:
        block = [f"<section><h2>{html.escape(s.title)}</h2>"]
        if s.text:
            block.append(f"<p>{html.escape(s.text)}</p>")
        if s.figure is not None:
            block.append(s.figure.to_html(full_html=False, include_plotlyjs=not js_included,
                                          include_mathjax=False, config={"displaylogo": False}))
            js_included = True
        if s.table is not None:
            block.append(s.table.to_html(index=False, escape=True, na_rep="—", border=0,
                                         classes="tbl") if len(s.table) else "<p>—</p>")
        block.append("</section>")
        parts.append("\n".join(block))
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1b1f24; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} .sub {{ color: #5b6573; margin-top: 0; }}
section {{ margin: 2rem 0; }} table.tbl {{ border-collapse: collapse; font-size: .9rem; width: 100%; }}
table.tbl th, table.tbl td {{ border-bottom: 1px solid #e3e7ec; padding: .3rem .5rem; text-align: left; }}
</style></head><body>
<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>
{''.join(parts)}
</body></html>"""



# ── figures (plotly only: the page and the HTML report draw the same ones) ─────────────────────
NOTE_COLOUR = "#6f42c1"
DISRUPTION_FILL = "rgba(224, 49, 49, 0.12)"
EVENT_COLOUR = "#2f80ed"
BASELINE_COLOUR = "#8c96a3"
SEVERITY_COLOUR = {"red": "#e03131", "yellow": "#f2a900"}


def _mark(fig, notes: list[tuple[object, str]], spans: list[tuple[object, object, str]],
          y_top: float | str | None, notes_label: str) -> None:
    """Annotations as vertical lines plus hoverable markers; disruptions as shaded spans."""
    for x0, x1, name in spans:
        fig.add_shape(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                      fillcolor=DISRUPTION_FILL, line_width=0, layer="below")
        fig.add_annotation(x=x0, xref="x", yref="paper", y=1, text=html.escape(name)[:60],
                           showarrow=False, xanchor="left", yanchor="bottom",
                           font={"size": 11, "color": "#e03131"})
    if not notes:
        return
    for x, _ in notes:
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                      line={"color": NOTE_COLOUR, "width": 1, "dash": "dot"})
    fig.add_scatter(x=[x for x, _ in notes], y=[y_top] * len(notes), mode="markers",
                    name=notes_label, marker={"symbol": "triangle-down", "size": 13, "color": NOTE_COLOUR},
                    text=[html.escape(text)[:200] for _, text in notes],
                    hovertemplate="%{text}<extra></extra>")


def relative_figure(event: pd.DataFrame, base: pd.DataFrame | None, metric: str, *,
                    event_label: str, base_label: str, y_title: str, x_title: str,
                    notes: list[tuple[float, str]] = (), spans: list[tuple[float, float, str]] = (),
                    notes_label: str = "Notes"):
    """The event and its baseline (or another event) on one event-relative hour axis."""
    import plotly.graph_objects as go

    fig = go.Figure()
    shape = "hv" if metric != "on_time_rate" else "linear"
    if base is not None and len(base):
        fig.add_scatter(x=base["hour_offset"], y=base[metric], name=base_label, mode="lines",
                        line={"color": BASELINE_COLOUR, "dash": "dash", "shape": shape}, connectgaps=False)
    fig.add_scatter(x=event["hour_offset"], y=event[metric], name=event_label, mode="lines+markers",
                    line={"color": EVENT_COLOUR, "width": 3, "shape": shape}, marker={"size": 5})
    values = pd.concat([event[metric], base[metric] if base is not None and len(base) else event[metric]])
    top = float(values.max()) if values.notna().any() else 1.0
    _mark(fig, list(notes), list(spans), top * 1.05 if top > 0 else 1.0, notes_label)
    fig.add_vline(x=0, line={"color": "#1b1f24", "width": 1})
    fig.update_layout(height=380, xaxis_title=x_title, yaxis_title=y_title, hovermode="x unified")
    return fig


def timeline_figure(alerts: pd.DataFrame | None, notes: pd.DataFrame, spans: pd.DataFrame,
                    window: Window, now: datetime, *, notes_label: str, x_title: str = ""):
    """Alerts as bars from opened to resolved (or to now while unresolved) coloured by severity,
    annotations as markers and disruptions as shaded spans, on one time axis. None when there is
    nothing to draw."""
    import plotly.graph_objects as go

    has_alerts = alerts is not None and len(alerts) > 0
    if not has_alerts and notes.empty and spans.empty:
        return None
    fig = go.Figure()
    end_cap = min(window.end, utc(now))
    if has_alerts:
        for severity, group in alerts.groupby(alerts["severity"].fillna("yellow")):
            opened = pd.to_datetime(group["opened_at"], utc=True)
            closed = pd.to_datetime(group["resolved_at"], utc=True).fillna(pd.Timestamp(end_cap))
            duration_ms = ((closed - opened).dt.total_seconds().clip(lower=60) * 1000).tolist()
            label = (group["title"].fillna(group["rule"]).astype(str).str.slice(0, 48)
                     + " #" + group["alert_id"].astype(str))
            fig.add_bar(base=opened.tolist(), x=duration_ms, y=label.tolist(), orientation="h",
                        name=str(severity), marker_color=SEVERITY_COLOUR.get(severity, "#8c96a3"),
                        hovertemplate="%{y}<extra></extra>")
        fig.update_xaxes(type="date")
    notes_xy = [(pd.Timestamp(r.happened_at).to_pydatetime(), f"{r.author}: {r.text}")
                for r in notes.itertuples(index=False)]
    span_xy = [(pd.Timestamp(r.starts_at).to_pydatetime(),
                pd.Timestamp(r.ends_at if pd.notna(r.ends_at) else end_cap).to_pydatetime(), str(r.name))
               for r in spans.itertuples(index=False)]
    _mark(fig, notes_xy, span_xy, notes_label if has_alerts else 0, notes_label)
    if not has_alerts and not notes_xy:  # only disruptions: an invisible point gives the axis its range
        fig.add_scatter(x=[window.start, window.end], y=[0, 0], mode="markers", marker_opacity=0,
                        showlegend=False, hoverinfo="skip")
    fig.update_layout(height=max(260, 34 * (len(alerts) if has_alerts else 0) + 160),
                      xaxis_title=x_title, barmode="overlay", xaxis={"type": "date"})
    fig.update_yaxes(autorange="reversed", showticklabels=has_alerts)
    return fig
