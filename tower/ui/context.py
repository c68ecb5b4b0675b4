"""The one door pages use to reach data: `context()` (database, simulated `now`, filters,
language, kiosk) with cached, failure-safe `query` and `kpi`, and `live` fragments that re-run with
a fresh context. tower.ui.frame re-exports these names, so pages keep `from tower.ui.frame import
context`."""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

import queries
from tower import foreground, kpis
from tower import runtime as runtime_mod
from tower.ui import filters as filters_mod
from tower.ui import i18n, kiosk, revalidate, scope, session
from tower.ui.filters import Filters, ViewState

DEEP_LINK_KEY = "_tower_deep_link"
log = logging.getLogger("tower.ui")
# ── one computation for every screen ─────────────────────────────────────────────────────────────
# A cached result is keyed on (database file, its data version, query/KPI name, parameters), and the
# parameters carry `as_of` — `now` rounded UP to a quantum — instead of `now` to the second. Within one
# data version and one quantum every screen with the same filters shares one computation; a
# committed write gives a new version, hence a new key, so new data shows at the next render with no
# TTL to wait out.
#
# The quantum is QUANTUM_WALL_S of wall time, i.e. QUANTUM_WALL_S × clock speed of simulated time
# (5 s at ×1, 5 simulated minutes on the 60× sandbox). Why that size: the fastest wall screen
# refreshes every 5 s, so a number it shows is already up to one refresh old by the time it is
# replaced; a quantum of one refresh interval adds no more than that, while letting every screen that
# refreshes inside the interval share one run (a 1-simulated-minute quantum would be 1 wall second
# at 60×: screens at random phases would share almost nothing). Numbers that depend on time passing
# (past-ETA, hours to stockout, data age) are therefore exact to within one refresh interval.
# Rounding up, not down, keeps the live window's end at or after the real `now`, so a row that has
# arrived is never left outside the window (a shipment may turn late up to one quantum early, never
# late). The clock and "updated N s ago" keep the exact `now`.
QUANTUM_WALL_S = 5
QUERY_TTL_S = 30         # only frees memory: freshness comes from the data version, not from expiry
# Bounded memory, shared by all sessions (entries are per key, not per session): one quantum's
# working set is about (distinct filter sets) × (queries per page) — 20 sessions × ~15 ≈ 300 even if
# no two share filters — and older quanta's entries are dead keys, so least-recently-used eviction
# beyond these bounds costs nothing. Results are a few KB (tiles, trends) to ~1 MB (map layers), so
# the worst case stays under ~0.7 GB.
MAX_QUERY_ENTRIES = 600
MAX_KPI_ENTRIES = 600
MAX_TILE_ENTRIES = 200
computed: Counter = Counter()  # cache misses per query/KPI name in this process (tests, bench)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class Context:
    db: object                    # tower.db.Database
    now: datetime                 # aware UTC, from the runtime clock (simulated in the sandbox)
    filters: Filters
    lang: str
    kiosk: bool
    refresh_s: int
    state: ViewState
    runtime: object = field(repr=False, default=None)
    tz: str = "UTC"               # the viewer's IANA zone (browser), for fmt.ts
    scope: str | None = None      # a merchant user's merchant: every query's $merchant, always
    as_of: datetime | None = None  # `now` rounded up to the cache quantum: what $now binds to
    stale_ok: bool = False        # a live fragment's own refresh or a kiosk's rotation: may show the
                                  # newest result of the same board while the exact one is computed
                                  # (tower.ui.revalidate)

    def t(self, key: str, **fmt_args) -> str:
        return i18n.t(key, self.lang, **fmt_args)

    def params(self, **extra) -> dict:
        f = self.filters
        out = {"start": f.start, "end": f.end, "now": self.as_of or self.now, "merchant": f.merchant,
               "channel": f.channel, "market": f.market, **extra}
        if self.scope is not None:
            out["merchant"] = self.scope  # no page argument can widen a merchant's view
        return out

    def query(self, name: str, **extra) -> pd.DataFrame:
        """Run queries/<name>.sql with `params(**extra)` (only the `$names` it uses are bound; any
        it uses but nobody set, like `$warehouse`, are NULL = all). Cached per data version and
        quantum (see QUANTUM_WALL_S): screens with the same filters share one run.

        A failing query never breaks the page: it logs, shows a warning naming the query, and
        returns an empty DataFrame so the page falls through to its empty state."""
        try:
            return cached_query(self.db, name, self.params(**extra), as_of=self.as_of,
                                stale_ok=self.stale_ok)
        except Exception as e:  # noqa: BLE001 - any DB/SQL/file error becomes an empty state
            log.warning("query %s failed: %s", name, e)
            st.warning(self.t("frame.query_failed", name=name, error=_short(e)))
            return pd.DataFrame()

    def kpi(self, name: str, *, dimension: str | None = None, bucket: str | None = None,
            **extra) -> pd.DataFrame:
        """KPI `name` of the semantic layer for the filters: broken down by `dimension`
        (dimension_value, value, n) or as a trend by `bucket` (bucket_start, value, n, gaps kept).
        Cached and failure-safe like `query`."""
        try:
            return shared_result(self.db, _cached_kpi, _kpi, (name, dimension, bucket),
                                 self.params(**extra), as_of=self.as_of, stale_ok=self.stale_ok)
        except Exception as e:  # noqa: BLE001 - a broken KPI shows as an empty state, not a crash
            log.warning("kpi %s failed: %s", name, e)
            st.warning(self.t("frame.query_failed", name=name, error=_short(e)))
            return pd.DataFrame()

    @property
    def scale(self) -> float:
        """Chart size multiplier from ?scale= (wall screens); 1 by default."""
        return self.state.scale or 1.0

    @property
    def speed(self) -> float:
        return float(getattr(getattr(self.runtime, "clock", None), "speed", 1.0) or 1.0)


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:200]


def bind(sql: str, params: dict) -> dict:
    """The subset of `params` that `sql` uses (DuckDB rejects unused named parameters); names the
    SQL uses but `params` lacks are bound as NULL ('all')."""
    used = dict.fromkeys(_PARAM.findall(_COMMENT.sub("", sql)))
    return {name: params.get(name) for name in used}


def as_of(now: datetime, speed: float = 1.0) -> datetime:
    """`now` rounded up to the cache quantum: QUANTUM_WALL_S wall seconds of simulated time."""
    quantum = max(1, round(QUANTUM_WALL_S * (speed or 1.0)))
    stamp = math.ceil(now.timestamp() / quantum) * quantum
    return datetime.fromtimestamp(stamp, timezone.utc)


def db_key(db) -> str:
    """Which database a cached result came from. A merchant's database is its own file (tower.ui.scope),
    so a merchant's results can never be served to anyone reading another file."""
    return str(db.path)


def cached_query(db, name: str, params: dict, *, as_of: datetime | None = None,
                 stale_ok: bool = False) -> pd.DataFrame:
    """queries/<name>.sql on `db` with the `$names` it uses from `params`, computed once per data
    version and parameter values however many screens ask (keyed on the bound parameters only, so
    a query that does not use $now is shared across quanta too). `stale_ok`: see tower.ui.revalidate
    (`as_of` makes the window relative for it)."""
    return shared_result(db, _cached_query, _query, (name,), bind(queries.load(name), params),
                         as_of=as_of, stale_ok=stale_ok)


def shared_result(db, cached: Callable, raw: Callable, args: tuple, params: dict, *,
                  as_of: datetime | None, stale_ok: bool):
    """`raw(*args, params, db)` for every screen that asks: through Streamlit's cache
    (`cached(db_key, data_version, *args, params, db)`) on a full run, or, with `stale_ok`, the
    newest result of the same board at once while the background makes the exact one
    (tower.ui.revalidate). Queries, KPIs and the frame's tiles all go through here."""
    key, version = db_key(db), db.data_version()
    board = (raw.__name__, key, *args)
    return revalidate.shared.get(
        (*board, revalidate.freeze(params, as_of)), (version, revalidate.freeze(params)),
        lambda: cached(key, version, *args, params, db), lambda: raw(*args, params, db), stale_ok=stale_ok,
        aliases=((*board, revalidate.fixed_shape(params)),))


# Streamlit holds a per-key lock while computing a missing entry (double-checked: the second caller
# waits and then reads the first one's result), so sessions that miss the same key at the same
# moment still run the SQL once; tests/test_board_cache.py checks it.
@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=MAX_QUERY_ENTRIES)
def _cached_query(db_key: str, data_version: int, name: str, params: dict, _db) -> pd.DataFrame:
    # db_key + data_version: which file, as of which committed write; _db stays out of the key.
    return _query(name, params, _db)


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=MAX_KPI_ENTRIES)
def _cached_kpi(db_key: str, data_version: int, name: str, dimension, bucket, params: dict,
                _db) -> pd.DataFrame:
    return _kpi(name, dimension, bucket, params, _db)


def _query(name: str, params: dict, db) -> pd.DataFrame:
    computed[name] += 1
    return db.df(queries.load(name), params)


def _kpi(name: str, dimension, bucket, params: dict, db) -> pd.DataFrame:
    computed[name] += 1
    if dimension:
        return kpis.breakdown(db, name, params, dimension)
    if bucket:
        return kpis.trend(db, name, params, bucket)
    return kpis.frame(db, name, params)


def runtime():
    """The process's runtime (config, clock, database), started once per server."""
    return runtime_mod.get()


def _through_the_frame() -> None:
    """Until some session has run app.py's st.navigation, Streamlit treats pages/ as a legacy
    pages directory, so the first visit to a deep link (a wall screen reconnecting to /map after a
    restart) would run the page file bare, without the frame. Send such a visit through app.py,
    which then switches to the page that was asked for, with its URL parameters."""
    if not PagesManager.uses_pages_directory:
        return
    try:
        wanted = urlsplit(st.context.url).path.rstrip("/").rsplit("/", 1)[-1]
    except Exception:  # noqa: BLE001 - no browser context: nothing to preserve
        wanted = ""
    st.session_state[DEEP_LINK_KEY] = (wanted, {k: st.query_params[k] for k in st.query_params})
    st.switch_page("app.py")


def follow_deep_link(pages: dict) -> None:
    """In app.py after st.navigation: finish a deep link that `_through_the_frame` redirected."""
    wanted, params = st.session_state.pop(DEEP_LINK_KEY, (None, None))
    if wanted in pages:
        st.switch_page(pages[wanted], query_params=params)


def context() -> Context:
    """Everything a page needs for this run: db, now, filters, language, kiosk, query helpers."""
    _through_the_frame()
    rt = runtime()
    who = session.identity()
    state = scope.pin(filters_mod.current_state(), who)  # a merchant's own, whatever the URL says
    try:
        db = scope.data_db(rt, who)  # a merchant user reads only its own cut of the data
    except scope.ScopeUnavailable as e:
        scope.stop_unavailable(state.lang, e)
    now = rt.now().replace(microsecond=0)
    at = as_of(now, float(getattr(getattr(rt, "clock", None), "speed", 1.0) or 1.0))
    event = None
    if state.window == "event":  # the chosen promotion, else the running one
        name, params = ("ops/event_by_id", {"event_id": state.event}) if state.event \
            else ("ops/current_event", {"now": at})
        try:
            rows = cached_query(db, name, params)
            event = rows.iloc[0].to_dict() if len(rows) else None
        except Exception as e:  # noqa: BLE001 - fall back to the live window rather than break the page
            log.warning("%s failed: %s", name, e)
    hours, problem = filters_mod.window_hours(getattr(getattr(rt, "config", None), "raw", None))
    resolved = filters_mod.resolve(state, at, event, live_hours=hours)  # window bounds: quantised
    if problem and resolved.window == "live" and not resolved.note:
        log.warning("%s", problem)
        resolved = replace(resolved, note="filters.note_bad_window_hours")
    try:
        tz = st.context.timezone or "UTC"
    except Exception:  # noqa: BLE001 - no browser context (bare script, some tests)
        tz = "UTC"
    # a kiosk's own move to the next page is a wall screen's refresh too: its page-level boards (the
    # Stock grid, the map's layers) may show the newest result while the exact one is computed; every
    # rotation onto them computed them in the foreground, ten kiosks queueing on each (bench/README.md)
    return Context(db=db, now=now, filters=resolved,
                   lang=state.lang, kiosk=state.kiosk, refresh_s=state.refresh_s, state=state,
                   runtime=rt, tz=tz, scope=who.merchant, as_of=at, stale_ok=kiosk.rotated())


def live(render: Callable[[Context], None], *, key: str, every: int | None = None) -> None:
    """Draw `render(ctx)` in a fragment that re-runs on its own every `every` seconds (default: the
    screen's ?refresh=), each time with a fresh context (new `now`, new data)."""
    interval = every or filters_mod.current_state().refresh_s

    # A full run shows exact numbers (a first visit, a changed filter), unless the screen started it
    # itself (a kiosk rotation); the fragment's own timed reruns may show the last board computed
    # while the exact one is made (tower.ui.revalidate).
    exact = f"tower_live_exact_{key}"
    st.session_state[exact] = not kiosk.rotated()

    @st.fragment(run_every=interval, key=f"tower_live_{key}")
    def _live() -> None:
        with foreground.shared.drawing():  # background jobs start after the screens (tower.foreground)
            render(replace(context(), stale_ok=not st.session_state.pop(exact, False)))

    _live()
