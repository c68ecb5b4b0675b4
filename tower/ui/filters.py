"""What the viewer is looking at, kept in the URL so a link is shareable:

    ?window=event&event=A&merchant=green-living&channel=web&market=US&lang=zh&kiosk=1&refresh=10
     &playlist=overview,map,stock&rotate=30          (custom window: &window=custom&from=…&to=…)

The default window is *live*: the last N hours ending now (N = `[ui] default_window_hours` in
tower.toml, 24 when unset), so a first visit shows the present and the board never freezes on a
promotion that is over. An event is an explicit choice: `window=event` follows the promotion
running now (the live window while none runs), `window=event&event=<id>` shows that event.

`ViewState` is that URL state as plain values (parsing never raises: bad values fall back to
defaults). `resolve()` turns it into the concrete `Filters` a query needs (start/end instants).
`render_sidebar()` draws the widgets and keeps session state and URL in step, including across page
switches (Streamlit drops query params when the page changes; we write them back)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Mapping

import streamlit as st

from tower.ui import fmt
from tower.ui.i18n import normalize

WINDOWS = ("live", "1h", "today", "event", "7d", "custom")
DEFAULT_WINDOW = "live"
DEFAULT_WINDOW_HOURS = 24
MAX_WINDOW_HOURS = 24 * 31
REFRESH_MIN_S, REFRESH_MAX_S = 5, 3600
DEFAULT_REFRESH_S, DEFAULT_KIOSK_REFRESH_S, DEFAULT_ROTATE_S = 30, 15, 30
DIMENSIONS = ("merchant", "channel", "market")
URL_KEYS = ("window", "event", "from", "to", *DIMENSIONS, "lang", "kiosk", "refresh", "playlist", "rotate", "scale")


@dataclass(frozen=True)
class Filters:
    """The bound filter values every query gets. Time window is [start, end); None means 'all'."""
    window: str
    start: datetime
    end: datetime
    merchant: str | None = None
    channel: str | None = None
    market: str | None = None
    event_name: str | None = None  # the promotion behind window='event'
    note: str | None = None        # i18n key explaining a fallback (e.g. no promotion found)
    hours: int | None = None       # the length of the live window ('Last {hours} h')


@dataclass(frozen=True)
class ViewState:
    window: str = DEFAULT_WINDOW
    event: str | None = None            # event id chosen with window='event'; None = the running one
    date_from: date | None = None
    date_to: date | None = None
    merchant: str | None = None
    channel: str | None = None
    market: str | None = None
    lang: str = "en"
    kiosk: bool = False
    refresh: int | None = None          # seconds between live refreshes; None = default
    playlist: tuple[str, ...] = field(default_factory=tuple)
    rotate: int | None = None           # seconds per playlist page; None = default
    scale: float | None = None          # chart size/type multiplier for big walls (2 at 3840×2160)

    @property
    def refresh_s(self) -> int:
        return self.refresh or (DEFAULT_KIOSK_REFRESH_S if self.kiosk else DEFAULT_REFRESH_S)

    @property
    def rotate_s(self) -> int:
        return self.rotate or DEFAULT_ROTATE_S

    @classmethod
    def from_query(cls, q: Mapping[str, str]) -> "ViewState":
        def text(key: str) -> str | None:
            v = q.get(key)
            v = v[-1] if isinstance(v, (list, tuple)) and v else v
            v = str(v).strip() if v is not None else ""
            return v[:200] or None  # a hostile URL cannot blow up labels or queries

        window = text("window")
        window = window if window in WINDOWS else DEFAULT_WINDOW
        return cls(
            window=window,
            event=text("event") if window == "event" else None,
            date_from=_date(text("from")),
            date_to=_date(text("to")),
            merchant=text("merchant"),
            channel=text("channel"),
            market=text("market"),
            lang=normalize(text("lang")),
            kiosk=(text("kiosk") or "").lower() in ("1", "true", "yes", "on"),
            refresh=_seconds(text("refresh")),
            playlist=tuple(p for p in (s.strip() for s in (text("playlist") or "").split(",")) if p),
            rotate=_seconds(text("rotate")),
            scale=_scale(text("scale")),
        )

    def to_query(self) -> dict[str, str]:
        """The URL form: only what differs from the defaults, so links stay short."""
        q: dict[str, str] = {}
        if self.window != DEFAULT_WINDOW:
            q["window"] = self.window
        if self.window == "event" and self.event:
            q["event"] = self.event
        if self.window == "custom":
            if self.date_from:
                q["from"] = self.date_from.isoformat()
            if self.date_to:
                q["to"] = self.date_to.isoformat()
        for dim in DIMENSIONS:
            if getattr(self, dim):
                q[dim] = getattr(self, dim)
        if self.lang != "en":
            q["lang"] = self.lang
        if self.kiosk:
            q["kiosk"] = "1"
        if self.refresh:
            q["refresh"] = str(self.refresh)
        if self.playlist:
            q["playlist"] = ",".join(self.playlist)
        if self.rotate:
            q["rotate"] = str(self.rotate)
        if self.scale:
            q["scale"] = f"{self.scale:g}"
        return q


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _scale(text: str | None) -> float | None:
    try:
        v = float(text) if text else None
    except ValueError:
        return None
    if v is None or v != v or v <= 0 or v == 1:
        return None
    return round(max(0.5, min(4.0, v)), 2)


def _seconds(text: str | None) -> int | None:
    try:
        v = int(float(text)) if text else None
    except (ValueError, OverflowError):  # "abc", "inf", "nan" from a hand-edited URL
        return None
    return None if v is None or v <= 0 else max(REFRESH_MIN_S, min(REFRESH_MAX_S, v))


def window_hours(raw_config: Mapping | None) -> tuple[int, str | None]:
    """`[ui] default_window_hours` from tower.toml: (hours, None), or (DEFAULT_WINDOW_HOURS, why)
    when it is not a whole number of hours from 1 to MAX_WINDOW_HOURS (the board still runs)."""
    ui = (raw_config or {}).get("ui", {})
    value = ui.get("default_window_hours", DEFAULT_WINDOW_HOURS) if isinstance(ui, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WINDOW_HOURS:
        return value, None
    return DEFAULT_WINDOW_HOURS, (f"[ui] default_window_hours must be a whole number of hours from 1 to "
                                  f"{MAX_WINDOW_HOURS}, got {value!r}; using {DEFAULT_WINDOW_HOURS}")


def resolve(state: ViewState, now: datetime, event: Mapping | None = None,
            live_hours: int = DEFAULT_WINDOW_HOURS) -> Filters:
    """Concrete window bounds for `state` at `now` (UTC). Days are UTC days.

    `event` is the promotion behind window='event': the chosen one (state.event, a row of
    queries/ops/event_by_id.sql) or, with no choice, the current one (queries/ops/current_event.sql),
    or None. Without a choice only a *running* promotion counts: once it is over the board goes
    back to the live window (never frozen on an event that ended); a chosen event is shown as
    chosen, over or not."""
    dims = {d: getattr(state, d) for d in DIMENSIONS}
    midnight = datetime.combine(now.astimezone(timezone.utc).date(), time(), timezone.utc)

    def live(note: str | None = None) -> Filters:
        return Filters("live", now - timedelta(hours=live_hours), now, note=note, hours=live_hours, **dims)

    if state.window == "live":
        return live()
    if state.window == "1h":
        return Filters("1h", now - timedelta(hours=1), now, **dims)
    if state.window == "today":
        return Filters("today", midnight, now, **dims)
    if state.window == "7d":
        return Filters("7d", now - timedelta(days=7), now, **dims)
    if state.window == "event":
        if not event or event.get("starts_at") is None:
            return live("filters.note_unknown_event" if state.event else "filters.note_no_running_event")
        start = _aware(event["starts_at"])
        end = _aware(event["ends_at"]) if event.get("ends_at") is not None else None
        over = end is not None and end <= now
        if over and not state.event:
            return live("filters.note_no_running_event")
        end = end if end is not None else now
        return Filters("event", start, max(end, start), event_name=event.get("name"),
                       note="filters.note_event_over" if over else None, **dims)
    # custom: whole UTC days from..to inclusive; a missing or reversed range falls back to 7 days
    if state.date_from and state.date_to and state.date_from <= state.date_to:
        start = datetime.combine(state.date_from, time(), timezone.utc)
        end = datetime.combine(state.date_to + timedelta(days=1), time(), timezone.utc)
        return Filters("custom", start, end, **dims)
    return Filters("custom", now - timedelta(days=7), now, note="frame.note_bad_range", **dims)


def _aware(ts) -> datetime:
    if hasattr(ts, "to_pydatetime"):
        ts = ts.to_pydatetime()
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


# ── Streamlit side ────────────────────────────────────────────────────────────────────────────────
_W = {"window": "tower_window", "event": "tower_event", "date_from": "tower_from", "date_to": "tower_to",
      "merchant": "tower_merchant", "channel": "tower_channel", "market": "tower_market",
      "lang": "tower_lang", "kiosk": "tower_kiosk", "refresh": "tower_refresh",
      "playlist": "tower_playlist", "rotate": "tower_rotate"}
_LAST_URL = "_tower_url"     # what the frame last wrote to the URL (our keys only)
STATE_KEY = "_tower_state"   # the ViewState of the current run, for context()


def _our_url_params() -> dict[str, str]:
    return {k: st.query_params[k] for k in URL_KEYS if k in st.query_params}


def adopt_url() -> ViewState:
    """Start of a run: if the URL changed from what we last wrote (first visit, a pasted link, a
    kiosk rotation), the URL wins and is loaded into the widgets; if it was emptied by a page
    switch, the last state wins. Widget keys Streamlit dropped (it can on a page switch) are
    re-seeded from that state. Returns the state including any widget the viewer just changed."""
    ss = st.session_state
    url = _our_url_params()
    last = ss.get(_LAST_URL)
    if last is None or (url and url != last):
        state = ViewState.from_query(url)
        ss[STATE_KEY] = state
        _seed_widgets(state, overwrite=True)
    else:
        state = ss.get(STATE_KEY) or ViewState()
        _seed_widgets(state, overwrite=False)
    return _state_from_widgets(state)


def _seed_widgets(state: ViewState, overwrite: bool) -> None:
    ss = st.session_state
    for attr, key in _W.items():
        if not overwrite and key in ss:
            continue
        value = getattr(state, attr)
        if attr == "playlist":
            value = list(value)
        elif attr in ("refresh", "rotate"):
            value = value or 0  # the number inputs show 0 for "default"
        ss[key] = value


def _state_from_widgets(base: ViewState) -> ViewState:
    """`base` updated with the widget values the viewer just changed (before the widgets draw),
    so the language or kiosk toggle takes effect on the run that follows the click."""
    ss = st.session_state
    values = {attr: ss[key] for attr, key in _W.items() if key in ss}
    if "playlist" in values:
        values["playlist"] = tuple(values["playlist"] or ())
    for attr in ("refresh", "rotate"):
        if attr in values:
            values[attr] = _seconds(str(values[attr])) if values[attr] else None
    if not values.get("lang"):
        values.pop("lang", None)
    if values.get("window") not in WINDOWS:
        values.pop("window", None)
    if values.get("window", base.window) != "event":
        values["event"] = None
    values["kiosk"] = bool(values.get("kiosk", base.kiosk))
    return replace(base, **values)


def current_state() -> ViewState:
    """The state for this run: the frame's, or (a page run on its own) the URL's."""
    state = st.session_state.get(STATE_KEY)
    return state if isinstance(state, ViewState) else ViewState.from_query(_our_url_params())


def write_url(state: ViewState) -> None:
    """Put `state` in the URL, keeping any other params a page uses (e.g. ?sku=…)."""
    ours = state.to_query()
    foreign = {k: st.query_params[k] for k in st.query_params if k not in URL_KEYS}
    if _our_url_params() != ours:
        st.query_params.from_dict({**foreign, **ours})
    st.session_state[_LAST_URL] = ours
    st.session_state[STATE_KEY] = state


def event_options(events, lang: str = "en") -> list[tuple[str, str]]:
    """[(event_id, 'name · start')] of the promotions in a queries/retro/events.sql frame, newest first."""
    if events is None or not len(events):
        return []
    promos = events[events["kind"] == "promotion"].sort_values("starts_at", ascending=False)
    return [(str(r.event_id), f"{fmt.event(r.name, lang)} · {_aware(r.starts_at):%Y-%m-%d %H:%M} UTC")
            for r in promos.itertuples(index=False)]


def render_sidebar(state: ViewState, options: Mapping[str, list[tuple[str, str]]],
                   t: Callable[..., str], page_names: list[tuple[str, str]],
                   live_hours: int = DEFAULT_WINDOW_HOURS,
                   fixed: Mapping[str, str] | None = None) -> ViewState:
    """Draw the filter widgets (values already seeded by adopt_url) and return the new state.

    `options` maps dimension → [(value, label)] and "event" → [(event_id, label)];
    `page_names` is [(url_path, title)] for the wall-screen playlist picker. `fixed` maps a
    dimension to the one value it must have (a merchant user's own merchant): its picker shows that
    value, disabled, whatever the URL or the session said."""
    fixed = dict(fixed or {})
    sb = st.sidebar
    lang = sb.radio(
        t("frame.language", lang=state.lang), ["en", "zh"], key=_W["lang"], horizontal=True,
        format_func=lambda v: {"en": "English", "zh": "中文"}[v],
    ) or state.lang
    tr = lambda key, **kw: t(key, lang=lang, **kw)  # labels below follow a language just picked

    sb.markdown(f"**{tr('frame.filters')}**")
    window = sb.selectbox(tr("frame.window"), WINDOWS, key=_W["window"],
                          format_func=lambda w: tr(f"frame.window_{w}", hours=live_hours))
    event = None
    if window == "event":
        events = dict(options.get("event", []))
        current = st.session_state.get(_W["event"])
        if current and current not in events:  # a shared link's event not loaded yet: keep it
            events[current] = current
        event = sb.selectbox(tr("filters.event"), [None, *events], key=_W["event"],
                             format_func=lambda v: tr("filters.event_running") if v is None else events[v])
    date_from = date_to = None
    if window == "custom":
        c1, c2 = sb.columns(2)
        date_from = c1.date_input(tr("frame.from"), key=_W["date_from"])
        date_to = c2.date_input(tr("frame.to"), key=_W["date_to"])
    dims = {}
    for dim in DIMENSIONS:
        labels = dict(options.get(dim, []))
        if dim in fixed:
            st.session_state[_W[dim]] = fixed[dim]
            labels = {fixed[dim]: labels.get(fixed[dim], fixed[dim])}
        current = st.session_state.get(_W[dim])
        if current and current not in labels:  # a shared link's value with no data yet: keep it
            labels[current] = current
        choices = list(labels) if dim in fixed else [None, *labels]
        dims[dim] = sb.selectbox(
            tr(f"frame.{dim}"), choices, key=_W[dim], placeholder=tr("frame.all"), disabled=dim in fixed,
            format_func=lambda v, labels=labels: tr("frame.all") if v is None else labels.get(v, v),
        )
        if dim in fixed:
            dims[dim] = fixed[dim]

    with sb.expander(tr("frame.wall_screen")):
        kiosk = st.toggle(tr("frame.kiosk"), key=_W["kiosk"], help=tr("frame.kiosk_help"))
        refresh = st.number_input(tr("frame.refresh_s"), min_value=0, max_value=REFRESH_MAX_S,
                                  step=5, key=_W["refresh"], help=tr("frame.refresh_help"))
        known = [p for p, _ in page_names]
        chosen = [p for p in (st.session_state.get(_W["playlist"]) or []) if p in known]
        st.session_state[_W["playlist"]] = chosen
        playlist = st.multiselect(tr("frame.playlist"), known, key=_W["playlist"],
                                  format_func=lambda p: dict(page_names).get(p, p))
        rotate = st.number_input(tr("frame.rotate_s"), min_value=0, max_value=REFRESH_MAX_S,
                                 step=5, key=_W["rotate"], help=tr("frame.rotate_help"))

    return replace(
        state, window=window, event=event, date_from=date_from, date_to=date_to, lang=lang, kiosk=bool(kiosk),
        refresh=_seconds(str(refresh)) if refresh else None, playlist=tuple(playlist),
        rotate=_seconds(str(rotate)) if rotate else None, **dims,
    )
