"""The picture frame around every page (sidebar, status strip, banners, page header), and the one
door pages use to reach data (defined in tower.ui.context, re-exported here).

Pages do:
    from tower.ui.frame import context
    ctx = context()
    df = ctx.query("pages/stock_health")                 # queries/pages/stock_health.sql, params bound
    trend = ctx.kpi("on_time_rate", bucket="hour")       # a KPI of the semantic layer (tower.kpis)
and for parts that refresh on their own (wall screens):
    frame.live(lambda ctx: draw(ctx), key="stock_live")   # re-runs every ?refresh= seconds

`context()` is rebuilt on each call from the URL/session state and the runtime clock, so a live
fragment always gets a fresh `now`. app.py draws the frame (sidebar filters, language switch, kiosk
mode, status strip with freshness and the stale/red-alert banners) and then runs the page."""
from __future__ import annotations

from dataclasses import replace

import html
import logging

import pandas as pd
import streamlit as st

from tower import kpis
from tower.config import ConfigError
from tower.db import DatabaseLocked
from tower.ui import filters as filters_mod
from tower.ui import fmt, i18n, kiosk, scope, session
from tower.ui.alert_banner import render_banner
from tower.ui.context import (MAX_TILE_ENTRIES, QUANTUM_WALL_S, QUERY_TTL_S, Context, _short, bind,  # noqa: F401
                              cached_query, computed, context, follow_deep_link, live,
                              runtime, shared_result)
from tower.ui.filters import ViewState

log = logging.getLogger("tower.ui")
STALE_FACTOR = 3         # a source is stale when its last ok run is older than 3 × its interval
DEFAULT_INTERVAL_S = 60  # for sources seen in sync_runs but absent from the config


# ── helpers pages share ─────────────────────────────────────────────────────────────────────────
def badge(text: str, status: str) -> str:
    """An HTML pill coloured red/yellow/green/grey (use with st.markdown(..., unsafe_allow_html=True))."""
    status = status if status in ("red", "yellow", "green") else "grey"
    return f'<span class="tower-badge {status}">{html.escape(str(text))}</span>'


HEALTH_RAG = {"failed": "red", "stale": "red", "never": "yellow", "partial": "yellow", "ok": "green"}


def source_status(ctx: Context) -> pd.DataFrame:
    """queries/ops/source_status for the configured sources at ctx.now (see the SQL header). The
    exact `now`, not the cache quantum: freshness and "stale" must not run ahead of the clock."""
    cfg = getattr(ctx.runtime, "config", None)
    sources = getattr(cfg, "sources", {}) or {}
    names = list(sources)
    return ctx.query(
        "ops/source_status",
        names=names,
        intervals=[float(sources[n].interval_s) for n in names],
        speed=ctx.speed,
        stale_factor=float(STALE_FACTOR),
        default_interval_s=float(DEFAULT_INTERVAL_S),
        now=ctx.now,
    )


# ── the frame (used by app.py) ────────────────────────────────────────────────────────────────────
def start_runtime():
    """Start (or reuse) the runtime; on failure draw a clear error panel and stop the run —
    never a stack trace. Returns the runtime."""
    lang = filters_mod.ViewState.from_query({k: st.query_params[k] for k in st.query_params}).lang
    try:
        return runtime()
    except Exception as e:  # noqa: BLE001 - every start-up failure gets a readable panel
        log.error("runtime failed to start: %s", e, exc_info=True)
        if isinstance(e, ConfigError):
            key, detail = "frame.error_config", str(e)
        elif isinstance(e, DatabaseLocked):
            key, detail = "frame.error_locked", str(e)
        elif isinstance(e, OSError):  # e.g. the sandbox port is taken by another program
            key, detail = "frame.error_os", str(e)
        else:
            key, detail = "frame.error_other", f"{type(e).__name__}: {e}"
    st.error(f"**{i18n.t('frame.error_title', lang)}**\n\n{i18n.t(key, lang)}")
    st.code(detail[:2000], language=None)
    st.caption(i18n.t("frame.error_retry", lang))
    st.stop()


def begin() -> ViewState:
    """Start of a frame run: load the URL (or keep the widgets' state), style the page, and decide
    who uses it (tower.ui.session.resolve: stops the run at the sign-in screen if nobody is)."""
    state = filters_mod.adopt_url()
    who = session.resolve(state)
    if who.via == "wall_token":
        state = replace(state, kiosk=True)  # a wall-screen link is always a wall screen: no sidebar
    kiosk.inject(state.kiosk)
    return scope.pin(state, who)  # a merchant's merchant filter is fixed, whatever the URL says


def filter_options(db) -> dict[str, list[tuple[str, str]]]:
    """The sidebar's choices per dimension, from `db` (a merchant's own database for a merchant)."""
    db = getattr(db, "db", db)  # a runtime is accepted too
    try:
        df = cached_query(db, "ops/filter_options", {})
    except Exception as e:  # noqa: BLE001 - filters without choices beat a broken frame
        log.warning("filter options failed: %s", e)
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for row in df.itertuples(index=False):
        out.setdefault(row.dimension, []).append((str(row.value), str(row.label)))
    return out


def option_label(dimension: str, value: str, label: str, lang: str) -> str:
    """A filter choice in words: codes such as channels have catalogue text (filters.<dim>.<value>);
    names (merchants) and ISO codes (markets) stay as they are."""
    key = f"filters.{dimension}.{value}"
    text = i18n.t(key, lang)
    return label if text == key else text


def sidebar(state: ViewState, page_names: list[tuple[str, str]]) -> ViewState:
    """Draw the sidebar filters and write the resulting state to the URL."""
    if state.kiosk:
        # A wall screen is driven by its URL: no sidebar at all (not merely hidden by CSS), so it
        # can never show filter widgets such as a "refresh 0" placeholder, nor cover the board.
        filters_mod.write_url(state)
        return state
    rt = runtime()
    who = session.identity()
    try:
        db = scope.data_db(rt, who)  # a merchant's choices come from its own rows only
    except scope.ScopeUnavailable as e:
        scope.stop_unavailable(state.lang, e)
    try:
        events = filters_mod.event_options(cached_query(db, "retro/events", {}),
                                             state.lang)
    except Exception as e:  # noqa: BLE001 - the picker without events beats a broken frame
        log.warning("event options failed: %s", e)
        events = []
    hours, _problem = filters_mod.window_hours(getattr(getattr(rt, "config", None), "raw", None))
    options = {dim: [(v, option_label(dim, v, label, state.lang)) for v, label in pairs]
               for dim, pairs in filter_options(db).items()}
    fixed = {"merchant": who.merchant} if who.scoped else {}
    new = scope.pin(filters_mod.render_sidebar(state, {**options, "event": events}, i18n.t, page_names,
                                               live_hours=hours, fixed=fixed), who)
    filters_mod.write_url(new)
    ctx = context()  # every page shows which window its numbers cover, right under the picker
    note = f" — {ctx.t(ctx.filters.note)}" if ctx.filters.note else ""
    st.sidebar.caption(window_caption(ctx) + note)
    return new


def guard_page(url_path: str, state: ViewState) -> None:
    """Before a page runs: a merchant user on a platform-only page (tower.ui.scope.PLATFORM_PAGES)
    gets a refusal in words and the page does not run."""
    scope.guard_page(url_path, session.identity(), state.lang)


def status_strip() -> None:
    """The live line under every page title: clock, freshness, "updated N s ago", and the banners
    that must be impossible to miss (stale/failed sources, open red alerts)."""
    live(_draw_status, key="status_strip")


def _draw_status(ctx: Context) -> None:
    status = source_status(ctx)
    parts = []
    clock = fmt.ts(ctx.now, ctx.lang, ctx.tz, seconds=True)
    parts.append(ctx.t("frame.clock_sim", time=clock, speed=fmt.number(ctx.speed, ctx.lang))
                 if ctx.speed != 1 else ctx.t("frame.clock", time=clock))
    if len(status):
        ok_at = status["last_ok_at"].dropna()
        if len(ok_at):
            since = (ctx.now - ok_at.max().to_pydatetime()).total_seconds() / ctx.speed
            parts.append(ctx.t("frame.updated_ago", ago=fmt.ago(since, ctx.lang)))
        age = status["data_age_s"].dropna()
        if len(age):
            parts.append(ctx.t("frame.data_age", age=fmt.duration(age.min(), ctx.lang)))
        # zip, not itertuples: this runs for every screen at every refresh, and itertuples
        # builds a namedtuple class each call (a quarter of the strip's interpreter time)
        pills = "".join(badge(source, HEALTH_RAG.get(health, "grey"))
                        for source, health in zip(status["source"], status["health"]))
    else:
        parts.append(ctx.t("frame.no_sources"))
        pills = ""
    st.markdown(f'<div class="tower-strip">{" · ".join(parts)}&nbsp;&nbsp;{pills}</div>',
                unsafe_allow_html=True)

    bad = status[status["health"].isin(["failed", "stale"])] if len(status) else status
    if len(bad):
        lines = []
        for r in bad.to_dict("records"):
            since = fmt.ago(r["since_ok_s"], ctx.lang) if pd.notna(r["since_ok_s"]) else ctx.t("frame.never")
            key = "frame.source_failed" if r["health"] == "failed" else "frame.source_stale"
            error = r["error"][:160] if isinstance(r["error"], str) else ""
            lines.append("- " + ctx.t(key, source=r["source"], since=since, error=error))
        st.error(f"**{ctx.t('frame.stale_banner', n=len(bad))}**\n\n" + "\n".join(lines), icon="🚨")
    _alert_banner(ctx)


def _alert_banner(ctx: Context) -> None:
    """Open red alerts (tower.ui.alert_banner)."""
    try:
        render_banner(ctx)
    except Exception as e:  # noqa: BLE001 - a broken banner must not take the page down
        log.warning("alert banner failed: %s", e)


# KPI tiles come from tower.kpis (the single source of KPI values and RAG status). The frame must
# still run when one of its queries is broken, so failures become "no tiles".
def kpi_tiles(ctx: Context, names=None) -> list:
    """War-room KPI tiles (tower.kpis.Tile) for ctx's filters, cached like queries."""
    names = tuple(names or kpis.WAR_ROOM)
    try:
        return shared_result(ctx.db, _cached_tiles, _tiles, (names,), ctx.params(), as_of=ctx.as_of,
                             stale_ok=ctx.stale_ok)
    except Exception as e:  # noqa: BLE001 - e.g. bad targets file: show the page without tiles
        log.warning("kpi tiles failed: %s", e)
        st.warning(ctx.t("frame.query_failed", name="KPI", error=_short(e)))
        return []


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=MAX_TILE_ENTRIES)
def _cached_tiles(db_key: str, data_version: int, names: tuple, params: dict, _db) -> list:
    # Keyed like context._cached_query: per file, data version and quantised window.
    return _tiles(names, params, _db)


def _tiles(names: tuple, params: dict, db) -> list:
    computed["tiles"] += 1
    return kpis.tiles(db, names, params)


def window_caption(ctx: Context) -> str:
    """'Member Day: 2026-11-24 08:00 UTC → 16:00 UTC' — what the numbers below cover."""
    f = ctx.filters
    name = (fmt.event(f.event_name, ctx.lang) if f.window == "event" and f.event_name
            else ctx.t(f"frame.window_{f.window}", hours=f.hours))
    same_day = f.start.astimezone(f.end.tzinfo).date() == f.end.date()
    return ctx.t("frame.window_caption", window=name, start=fmt.ts(f.start, ctx.lang, ctx.tz),
                 end=fmt.ts(f.end, ctx.lang, ctx.tz, date=not same_day))


def page_header(ctx: Context, title: str) -> None:
    """A page title with the active window (and why it fell back, if it did) beneath it."""
    st.title(title)
    caption = window_caption(ctx)
    if ctx.filters.note:
        caption += " — " + ctx.t(ctx.filters.note)
    st.caption(caption)
