"""The one door pages use to reach data: `context()` (database, simulated `now`, filters,
language, kiosk) with cached, failure-safe `query` and `kpi`, and `live` fragments that re-run with
a fresh context. tower.ui.frame re-exports these names, so pages keep `from tower.ui.frame import
context`."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

import queries
from tower import kpis
from tower import runtime as runtime_mod
from tower.ui import filters as filters_mod
from tower.ui import i18n, scope, session
from tower.ui.filters import Filters, ViewState

DEEP_LINK_KEY = "_tower_deep_link"
log = logging.getLogger("tower.ui")
QUERY_TTL_S = 5          # short: wall screens refresh every 5–30 s and must see new data
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

    def t(self, key: str, **fmt_args) -> str:
        return i18n.t(key, self.lang, **fmt_args)

    def params(self, **extra) -> dict:
        f = self.filters
        out = {"start": f.start, "end": f.end, "now": self.now, "merchant": f.merchant,
               "channel": f.channel, "market": f.market, **extra}
        if self.scope is not None:
            out["merchant"] = self.scope  # no page argument can widen a merchant's view
        return out

    def query(self, name: str, **extra) -> pd.DataFrame:
        """Run queries/<name>.sql with `params(**extra)` (only the `$names` it uses are bound; any
        it uses but nobody set, like `$warehouse`, are NULL = all). Cached for QUERY_TTL_S.

        A failing query never breaks the page: it logs, shows a warning naming the query, and
        returns an empty DataFrame so the page falls through to its empty state."""
        try:
            return _cached_query(str(self.db.path), name, self.params(**extra), self.db)
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
            return _cached_kpi(str(self.db.path), name, dimension, bucket, self.params(**extra), self.db)
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


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=2000)
def _cached_query(db_key: str, name: str, params: dict, _db) -> pd.DataFrame:
    # db_key keeps results of different database files apart; _db stays out of the cache key.
    sql = queries.load(name)
    return _db.df(sql, bind(sql, params))


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=2000)
def _cached_kpi(db_key: str, name: str, dimension, bucket, params: dict, _db) -> pd.DataFrame:
    if dimension:
        return kpis.breakdown(_db, name, params, dimension)
    if bucket:
        return kpis.trend(_db, name, params, bucket)
    return kpis.frame(_db, name, params)


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
    now = rt.now().replace(microsecond=0)  # whole seconds: stable cache keys within a second
    event = None
    if state.window == "event":  # the chosen promotion, else the running one
        name, params = ("ops/event_by_id", {"event_id": state.event}) if state.event \
            else ("ops/current_event", {"now": now})
        try:
            rows = _cached_query(str(db.path), name, params, db)
            event = rows.iloc[0].to_dict() if len(rows) else None
        except Exception as e:  # noqa: BLE001 - fall back to the live window rather than break the page
            log.warning("%s failed: %s", name, e)
    hours, problem = filters_mod.window_hours(getattr(getattr(rt, "config", None), "raw", None))
    resolved = filters_mod.resolve(state, now, event, live_hours=hours)
    if problem and resolved.window == "live" and not resolved.note:
        log.warning("%s", problem)
        resolved = replace(resolved, note="filters.note_bad_window_hours")
    try:
        tz = st.context.timezone or "UTC"
    except Exception:  # noqa: BLE001 - no browser context (bare script, some tests)
        tz = "UTC"
    return Context(db=db, now=now, filters=resolved,
                   lang=state.lang, kiosk=state.kiosk, refresh_s=state.refresh_s, state=state,
                   runtime=rt, tz=tz, scope=who.merchant)


def live(render: Callable[[Context], None], *, key: str, every: int | None = None) -> None:
    """Draw `render(ctx)` in a fragment that re-runs on its own every `every` seconds (default: the
    screen's ?refresh=), each time with a fresh context (new `now`, new data)."""
    interval = every or filters_mod.current_state().refresh_s

    @st.fragment(run_every=interval, key=f"tower_live_{key}")
    def _live() -> None:
        render(context())

    _live()
