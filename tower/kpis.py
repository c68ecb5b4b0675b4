"""The semantic layer from Python: KPI metadata from the headers of queries/kpi/<name>.sql, their
values (`value`), breakdowns (`breakdown`) and trends (`trend`) through each KPI's one macro
`kpi_<name>`, previous-window deltas and red/yellow/green against config/kpis.toml (`tiles`).

The macros are the single source of truth: this module only calls them with bound parameters. No
Streamlit here, so pages, alerts, the retro, the CLI and tests all get the same numbers.

Use from a page:  `ctx.kpi("on_time_rate", dimension="carrier")` or `frame.kpi_tiles(ctx, names)`.
Units: `pct` values are percentages 0–100 (93.4 means 93.4%: use `fmt.pct(v / 100)` or
`Kpi.format_value`), `points` are percentage points, `score` is NPS (−100…100)."""
from __future__ import annotations

import math
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

import queries

TARGETS_PATH = Path(__file__).resolve().parent.parent / "config" / "kpis.toml"
HEADER_KEYS = ("name", "label", "label_zh", "definition", "definition_zh", "unit", "grain", "better",
               "format", "caveat", "dimensions", "buckets")
# what a KPI can be broken down by (its header's `dimensions:` line names the ones it carries)
DIMENSIONS = ("merchant", "channel", "market", "warehouse", "carrier", "supplier", "sku", "tier")
BUCKETS = ("hour", "day")
UNITS = ("pct", "count", "hours", "days", "ratio", "money", "score", "points")
STATUSES = ("green", "yellow", "red")
# the headline tiles of the war room, in display order
WAR_ROOM = ("on_time_rate", "nps", "return_rate", "hours_to_stockout", "stockouts",
            "sales_vs_forecast", "shipments_past_eta", "exceptions")
# the Customers page's headline, trends and breakdowns
CUSTOMERS = ("on_time_rate", "otif", "delivery_speed_p50_hours", "delivery_speed_p90_hours", "nps", "csat",
             "return_rate", "order_accuracy")
SUPPLIERS = ("tier_share", "supplier_progress_vs_plan")
# the KPIs the alert rules of the same name judge (queries/alerts/<name>.sql calls kpi_<name>)
ALERTED = ("on_time_rate", "nps", "return_rate")
# where each KPI is shown, for the glossary ("every surface calls the layer"); the retro compares
# every KPI of the event with its baseline, and the CLI prints them all
SURFACES = {"overview": WAR_ROOM, "customers": CUSTOMERS, "suppliers": SUPPLIERS, "alerts": ALERTED}
# the window before a tiles call's (tiles): DuckDB binds and plans a statement on one core, about a
# third of the war-room tiles' time at the reference scale, so the other core plans the other window
_PREVIOUS_WINDOWS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tower-tiles")


def shown_on(name: str) -> list[str]:
    """The surfaces that show KPI `name`."""
    return [surface for surface, names in SURFACES.items() if name in names] + ["retro", "cli"]


class TargetsError(ValueError):
    """config/kpis.toml is unreadable or inconsistent; the message names the file and field."""


# ── metadata ────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    label_zh: str
    definition: str
    unit: str
    grain: str
    better: str             # "higher" | "lower"
    format: str             # str.format spec for the value, e.g. "{:.1f}%"
    definition_zh: str = ""
    caveat: str = ""
    dimensions: tuple[str, ...] = ()   # what it can be broken down by
    buckets: bool = False              # whether it has an hourly/daily trend (a window KPI)
    query: str = ""                    # its file, e.g. "kpi/on_time_rate" (the macro's definition)

    @property
    def sql(self) -> str:
        """The macro's definition (for the glossary)."""
        return queries.load(self.query)

    def title(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" and self.label_zh else self.label

    def meaning(self, lang: str = "en") -> str:
        return self.definition_zh if lang == "zh" and self.definition_zh else self.definition

    def format_value(self, value: float | None) -> str:
        if value is None:
            return "—"
        try:
            return self.format.format(value)
        except (ValueError, TypeError):
            return f"{value:,.2f}"


def parse_header(text: str) -> dict[str, str]:
    """`key: value` lines of a header block; indented lines continue the previous key."""
    fields: dict[str, str] = {}
    key = None
    for raw in text.splitlines():
        m = re.match(r"^([a-z_]+):\s*(.*)$", raw)
        if m and m.group(1) in HEADER_KEYS:
            key = m.group(1)
            fields[key] = m.group(2).strip()
        elif key and raw.strip():
            fields[key] = f"{fields[key]} {raw.strip()}".strip()
    return fields


@cache
def catalog() -> dict[str, Kpi]:
    """Every headline KPI (queries/kpi/*.sql with a unit and a direction), by name."""
    found = {}
    for query_name in queries.names("kpi"):
        fields = parse_header(queries.header(query_name))
        if "unit" not in fields or "better" not in fields:
            continue  # a per-entity result set (stock_health, po_progress …), not a KPI
        name = fields.get("name") or query_name.split("/")[-1]
        found[name] = Kpi(
            name=name,
            label=fields.get("label", name),
            label_zh=fields.get("label_zh", ""),
            definition=fields.get("definition", ""),
            definition_zh=fields.get("definition_zh", ""),
            unit=fields["unit"],
            grain=fields.get("grain", ""),
            better=fields["better"],
            format=fields.get("format", "{:,.2f}"),
            caveat=fields.get("caveat", ""),
            dimensions=tuple(d for d in re.findall(r"[a-z]+", fields.get("dimensions", "").split("(")[0])
                             if d in DIMENSIONS),
            buckets=fields.get("buckets", "none").split()[0].strip(",") != "none",
            query=query_name,
        )
    return found


def get(name: str) -> Kpi:
    try:
        return catalog()[name]
    except KeyError:
        raise KeyError(f"unknown KPI {name!r}; known: {', '.join(sorted(catalog()))}") from None


# ── running queries ─────────────────────────────────────────────────────────────────────────────
def referenced_params(sql: str) -> set[str]:
    """Names of the `$name` parameters a query uses (comments ignored)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return set(re.findall(r"\$([A-Za-z_]\w*)", code))


def bind(sql: str, params: dict) -> dict:
    """Exactly the parameters `sql` uses: DuckDB rejects extra names, and a filter the caller
    did not mention (e.g. $carrier) means "all", i.e. NULL."""
    return {k: params.get(k) for k in referenced_params(sql)}


def run(db, query_name: str, params: dict) -> pd.DataFrame:
    """Run any named query with the subset of `params` it uses (missing ones bound as NULL)."""
    sql = queries.load(query_name)
    return db.df(sql, bind(sql, params))


def frame(db, name: str, params: dict, dimension: str | None = None,
          bucket: str | None = None) -> pd.DataFrame:
    """Call KPI `name`'s macro: columns dimension_value, bucket_start, value, n (and any extras the
    KPI returns), one row per group. No rows when nothing counted."""
    kpi = get(name)
    if dimension is not None and dimension not in kpi.dimensions:
        raise ValueError(f"{name} cannot be broken down by {dimension!r} "
                         f"(it can by: {', '.join(kpi.dimensions) or 'nothing'})")
    if bucket is not None and (bucket not in BUCKETS or not kpi.buckets):
        raise ValueError(f"{name} has no {bucket!r} trend")
    sql = queries.kpi_call(name)
    return db.df(sql, bind(sql, {**params, "dimension": dimension, "bucket": bucket}))


def breakdown(db, name: str, params: dict, dimension: str) -> pd.DataFrame:
    """One row per value of `dimension` (dimension_value, value, n), the most observed first."""
    df = frame(db, name, params, dimension=dimension).drop(columns="bucket_start")
    return df.sort_values(["n", "dimension_value"], ascending=[False, True], ignore_index=True)


def trend(db, name: str, params: dict, bucket: str = "hour") -> pd.DataFrame:
    """One row per UTC bucket of the window (bucket_start, value, n), quiet buckets included with
    n = 0 and no value, so a gap shows as a gap and never as a zero."""
    df = frame(db, name, params, bucket=bucket).drop(columns="dimension_value")
    start, end = params.get("start"), min(x for x in (params.get("end"), params.get("now")) if x)
    if start is None and not df.empty:
        start = df["bucket_start"].min()
    if start is None:
        return df
    freq = "h" if bucket == "hour" else "D"
    first = pd.Timestamp(start).tz_convert("UTC").floor(freq)
    # every bucket that has begun (the last one partly): a bucket after now is the future, not a
    # quiet hour
    grid = pd.DataFrame({"bucket_start": pd.date_range(first, pd.Timestamp(end).tz_convert("UTC"),
                                                       freq=freq, inclusive="left")})
    df["bucket_start"] = pd.to_datetime(df["bucket_start"], utc=True)
    out = grid.merge(df, on="bucket_start", how="left")
    out["n"] = out["n"].fillna(0).astype("int64")
    return out


def clean(x) -> float | None:
    """A float, or None for NULL/NaN/NA (what DuckDB and pandas give for 'no value')."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def value(db, name: str, params: dict) -> tuple[float | None, int]:
    """(value, n) of one KPI over the whole window; value None when there is no data."""
    df = frame(db, name, params)
    if df.empty:
        return None, 0
    row = df.iloc[0]
    n = clean(row.get("n"))
    return clean(row.get("value")), int(n or 0)


# ── targets and status ──────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Target:
    green: float
    yellow: float
    better: str  # higher | lower
    min_n: int = 0  # fewer observations than this are too few to judge (one survey answer is not a red)

    def status(self, value: float | None, n: int | None = None) -> str | None:
        """green / yellow / red; None when there is no value, or too few observations, to judge."""
        if value is None or (n is not None and n < self.min_n):
            return None
        if self.better == "higher":
            return "green" if value >= self.green else "yellow" if value >= self.yellow else "red"
        return "green" if value <= self.green else "yellow" if value <= self.yellow else "red"


@dataclass(frozen=True)
class Targets:
    default: dict[str, Target] = field(default_factory=dict)
    markets: dict[tuple[str, str], Target] = field(default_factory=dict)  # (kpi, market)

    def for_kpi(self, name: str, market: str | None = None) -> Target | None:
        if market and (name, market) in self.markets:
            return self.markets[(name, market)]
        return self.default.get(name)


def _target(path: Path, where: str, table, better: str) -> Target:
    if not isinstance(table, dict):
        raise TargetsError(f"{path} [{where}] must be a table with `green` and `yellow`")
    try:
        green, yellow = float(table["green"]), float(table["yellow"])
    except KeyError as e:
        raise TargetsError(f"{path} [{where}] needs `{e.args[0]}`") from None
    except (TypeError, ValueError):
        raise TargetsError(f"{path} [{where}] `green` and `yellow` must be numbers") from None
    min_n = table.get("min_n", 0)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise TargetsError(f"{path} [{where}] `min_n` must be a whole number ≥ 0, got {min_n!r}")
    if (better == "higher" and green < yellow) or (better == "lower" and green > yellow):
        raise TargetsError(
            f"{path} [{where}] green={green:g} yellow={yellow:g} contradict `better: {better}` "
            f"(for {better}-is-better, green must be {'≥' if better == 'higher' else '≤'} yellow)"
        )
    return Target(green, yellow, better, min_n)


def load_targets(path: str | Path | None = None) -> Targets:
    """Read targets: `[<kpi>] green = …, yellow = …` (optionally `min_n = …`) and
    `[<kpi>.markets.<MARKET>]` overrides."""
    path = Path(path or TARGETS_PATH)
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        return Targets()  # no targets: tiles show values without a colour
    except tomllib.TOMLDecodeError as e:
        raise TargetsError(f"{path} is not valid TOML: {e}") from None
    known = catalog()
    default, markets = {}, {}
    for name, table in raw.items():
        if name not in known:
            raise TargetsError(f"{path} [{name}]: no such KPI (known: {', '.join(sorted(known))})")
        better = known[name].better
        default[name] = _target(path, name, table, better)
        for market, override in (table.get("markets") or {}).items():
            merged = {k: table[k] for k in ("green", "yellow", "min_n") if k in table}
            merged.update(override if isinstance(override, dict) else {})
            markets[(name, market)] = _target(path, f"{name}.markets.{market}", merged, better)
    return Targets(default, markets)


# ── tiles ───────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Tile:
    kpi: Kpi
    value: float | None
    n: int
    previous: float | None         # same KPI over the previous window of the same length
    delta: float | None            # value − previous, in the KPI's unit
    status: str | None             # green | yellow | red | None (no data or no target)
    target: Target | None = None
    error: str | None = None       # the query failed; the tile shows this instead of a value

    @property
    def name(self) -> str:
        return self.kpi.name

    @property
    def label(self) -> str:
        return self.kpi.label

    @property
    def improved(self) -> bool | None:
        """Whether the change since the previous window is for the better."""
        if not self.delta:
            return None
        return (self.delta > 0) == (self.kpi.better == "higher")


def previous_params(params: dict) -> dict | None:
    """The window just before [start, end) with the same length; None without a start/end."""
    start, end = params.get("start"), params.get("end")
    if not isinstance(start, datetime) or not isinstance(end, datetime) or end <= start:
        return None
    return {**params, "start": start - (end - start), "end": start}


def tile(db, name: str, params: dict, targets: Targets | None = None) -> Tile:
    targets = load_targets() if targets is None else targets
    try:
        current, n = value(db, name, params)
        prev_params = previous_params(params)
        previous = value(db, name, prev_params)[0] if prev_params else None
    except duckdb.Error as e:
        # one broken query must not blank the whole war room: the tile says what failed
        target = targets.for_kpi(name, params.get("market"))
        return Tile(get(name), None, 0, None, None, None, target, error=f"{type(e).__name__}: {e}")
    return _tile(name, current, n, previous, params, targets)


def _tile(name: str, current: float | None, n: int, previous: float | None, params: dict,
          targets: Targets) -> Tile:
    target = targets.for_kpi(name, params.get("market"))
    delta = current - previous if current is not None and previous is not None else None
    status = target.status(current, n) if target else None
    return Tile(get(name), current, n, previous, delta, status, target)


def tiles(db, names: list[str] | tuple[str, ...], params: dict,
          targets: Targets | None = None) -> list[Tile]:
    """`tile` for each name: the window's KPIs in one statement (queries.kpi_calls: the KPIs that
    read the same facts, e.g. the shipments in flight, share them) and the window before it in
    another, run at the same time on a second cursor (at the reference scale 135-149 ms as one
    statement for both windows → 107-118 ms, bench/README "Scale"). If a statement fails, the
    tiles are computed one by one, so only the broken one shows its error."""
    targets = load_targets() if targets is None else targets
    names = list(names)
    prev_params = previous_params(params)
    try:
        previous = _PREVIOUS_WINDOWS.submit(_values, db, names, prev_params) if prev_params else None
        now_values = _values(db, names, params)
        before = previous.result() if previous else {}
    except duckdb.Error:
        return [tile(db, name, params, targets) for name in names]
    out = []
    for name in names:
        current, n = now_values.get(name, (None, 0))
        out.append(_tile(name, current, n, before.get(name, (None, 0))[0], params, targets))
    return out


def _values(db, names: list[str], params: dict) -> dict[str, tuple[float | None, int]]:
    """{name: (value, n)} of each KPI in `names` over one window, in one statement. A KPI with
    nothing to count has no row and is left out."""
    sql = queries.kpi_calls(names)
    slotted = {}  # call i's parameters as $<name>_<i>
    for i in range(len(names)):
        slotted.update({f"{key}_{i}": v for key, v in {**params, "dimension": None, "bucket": None}.items()})
    found = {}
    for r in db.df(sql, bind(sql, slotted)).itertuples():
        found.setdefault(names[int(r.slot)], (clean(r.value), int(clean(r.n) or 0)))
    return found

