"""Wall-screen (kiosk) mode: CSS that turns the page into a dark, high-contrast, large-type board
sized to the screen, the sizes pages use so a wall screen fits without scrolling, and the playlist
rotation (`?playlist=overview,map,stock&rotate=30`) that moves to the next screen while keeping
every kiosk parameter in the URL.

The styles hook only onto what Streamlit offers for styling: the `st-key-<key>` class of keyed
containers, the `st<Element>` class names on elements (`stMetric`, `stDataFrame`, `stAppHeader`,
`stMain`, `stMainBlockContainer`) and plain HTML tags (kiosk.table's <table>), never the internal
`data-testid` attributes. The sidebar is not drawn at all in kiosk mode (see frame.sidebar)."""
from __future__ import annotations

import html
import itertools
import time
from typing import Mapping, Sequence

import pandas as pd
import streamlit as st

SHOWN_KEY = "_tower_kiosk_shown"  # (page url_path, monotonic time it was first shown)
ROTATED_KEY = "_tower_kiosk_rotated"  # set for the one full run the rotation itself starts
TURN_KEY = "_tower_kiosk_turn"  # this screen's place among the kiosks opened on this server
_TURNS = itertools.count()      # kiosk screens opened on this server, in order

# The wall the kiosk layout is drawn for. `?scale=2` on a 3840×2160 wall doubles every size in
# pixels (charts, map), while the CSS type follows the viewport itself, so both grow together.
WALL_W, WALL_H = 1920, 1080
PAD_PX = 24  # page padding each side at 1920 px (1.25rem of the 19.2 px root font, rounded up)

# Styles for every mode: RAG tiles and badges (containers keyed "rag-<status>-…" get a coloured
# edge), and larger type on very wide screens. Streamlit sizes text in rem, so raising the root
# font size makes a 3840×2160 wall read like 1920×1080. (CSS `zoom` would be simpler, but Plotly
# and the dataframe grid measure themselves in zoomed pixels and then draw twice too large.)
BASE_CSS = """
<style>
@media (min-width: 2800px) { html { font-size: 28px; } }
[class*="st-key-rag-red"]    { border-left: .5rem solid #e03131 !important; }
[class*="st-key-rag-yellow"] { border-left: .5rem solid #f2a900 !important; }
[class*="st-key-rag-green"]  { border-left: .5rem solid #1a9850 !important; }
[class*="st-key-rag-grey"]   { border-left: .5rem solid #8c96a3 !important; }
.tower-badge { display:inline-block; padding:.1rem .55rem; margin:0 .35rem .25rem 0; border-radius:1rem;
  font-weight:600; font-size:.85rem; color:#fff; white-space:nowrap; }
.tower-badge.red { background:#e03131; } .tower-badge.yellow { background:#f2a900; color:#1b1f24; }
.tower-badge.green { background:#1a9850; } .tower-badge.grey { background:#6b7480; }
.tower-strip { font-size:.95rem; line-height:1.9; }
</style>
"""

# Type follows the screen: 1vw = 19.2 px at 1920 wide, 38.4 px at 3840; the vh bound keeps a
# screen wider than 16:9 from growing type past its height. Vertical space is tight on purpose:
# a 1080-line wall must show tiles, alerts, charts and tables at once.
KIOSK_CSS = """
<style>
html { font-size: min(1vw, 1.78vh); }
.stAppHeader, .stAppToolbar, .stSidebar, footer { display: none !important; }
.stApp, .stMain { background: #05080d !important; color: #f5f7fa; }
.stMainBlockContainer { padding: .6rem 1.25rem !important; max-width: 100% !important; }
.stMain .stVerticalBlock { gap: .35rem; }
/* headings sit in a wrapper pulled up by 1rem below: the bottom padding keeps the next element
   from covering the heading's lower half */
.stApp h1 { font-size: 1.9rem !important; line-height: 1.25 !important;
  padding: .15rem 0 1.05rem !important; }
.stApp h2, .stApp h3 { font-size: 1.25rem !important; padding: .1rem 0 1rem !important; }
.stApp h1, .stApp h2, .stApp h3, .stApp h4, .stApp p, .stApp li, .stApp label, .stApp span,
.stApp small { color: #f5f7fa !important; }
.stApp .tower-badge.yellow { color: #1b1f24 !important; }
.stApp .stAlert > div { background: #5c0b0b !important; }  /* the page's light text stays readable */
.stMetric { background: #111821; padding: .3rem .7rem; border-radius: .5rem; }
.stMetric label p { font-size: .95rem !important; color: #c9d1db !important; }
.stMetric label + div { font-size: 2.3rem !important; font-weight: 700; color: #ffffff !important;
  line-height: 1.15; }
.stMetric label + div + div, .stMetric label + div + div * { font-size: .95rem !important;
  background: transparent !important; }
/* a long value (a date, "carrier · mode") wraps on the wall instead of ending in "…" */
.stMetric label + div, .stMetric label + div * { white-space: normal !important;
  text-overflow: clip !important; overflow-wrap: anywhere; }
.st-key-map-shipment-facts .stMetric label + div { font-size: 1.6rem !important; }
[class*="st-key-rag-"] { padding: .35rem .45rem !important; gap: .2rem !important; }
[class*="st-key-rag-"] .stMarkdown, [class*="st-key-rag-"] .stMarkdown * { white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.stApp .tower-strip { font-size: 1.05rem; line-height: 1.6; }
.stApp table { background: #111821 !important; color: #f5f7fa !important; font-size: .85rem; }
.stApp table th { background: #1b2430 !important; color: #c9d1db !important; }
.stApp table td, .stApp table th { border-color: #2b3440 !important; padding: .15rem .45rem !important;
  line-height: 1.3; }
.stApp table tr { background: transparent; }
.stApp table td.num { text-align: right; }
.stApp table td.rag-red { background: #e03131 !important; color: #ffffff !important; font-weight: 600; }
.stApp table td.rag-yellow { background: #f2a900 !important; color: #1b1f24 !important; font-weight: 600; }
.stApp table td.rag-green { background: #1a9850 !important; color: #ffffff !important; font-weight: 600; }
.stApp table td.rag-over { background: #2f6fb5 !important; color: #ffffff !important; font-weight: 600; }
.stApp table tr.tower-red td, .stApp table tr.tower-red th { background: #e03131 !important;
  color: #ffffff !important; font-weight: 600; }
/* the interactive grid paints itself on a canvas in the light theme's colours: turn it dark (the
   hue turn keeps red rows red). Pages show small tables with kiosk.table, which is real HTML. */
.stApp .stDataFrame { filter: invert(1) hue-rotate(180deg); }
</style>
"""


def css(kiosk: bool) -> str:
    return BASE_CSS + (KIOSK_CSS if kiosk else "")


def inject(kiosk: bool) -> None:
    st.html(css(kiosk))


def _scale(ctx) -> float:
    return float(getattr(ctx, "scale", 1.0) or 1.0)


def content_width(ctx) -> int:
    """Pixels across the kiosk page body (the wall's width minus padding, times ?scale=)."""
    return round((WALL_W - 2 * PAD_PX - 12) * _scale(ctx))


def screen_px(ctx, share: float) -> int:
    """`share` of the wall's height in pixels, times ?scale= (for elements drawn in px, like the map)."""
    return round(WALL_H * share * _scale(ctx))


def chart_height(ctx, share: float, normal: int) -> int:
    """A Plotly chart's height: `share` of a 1080-line wall in kiosk mode, else `normal`.
    charts.apply multiplies it by ?scale=, so a 3840×2160 wall with scale=2 gets the same share."""
    return round(WALL_H * share) if getattr(ctx, "kiosk", False) else normal


def rows(ctx, kiosk_rows: int, normal: int) -> int:
    """How many rows a list shows: fewer on a wall screen, which cannot scroll."""
    return kiosk_rows if getattr(ctx, "kiosk", False) else normal


def table(data, ctx, *, red_rows=None, cell_classes=None, **dataframe_args) -> None:
    """A small table that follows the screen: in kiosk mode a static HTML table (dark, large type,
    no scrollbars); elsewhere the interactive grid with `dataframe_args` (column_config, …).
    In kiosk mode column_config labels become the headers and printf-style number formats
    ("%.1f") are applied; other column settings are for the grid only. `red_rows` (booleans, one
    per row) marks rows that need action: red on the wall, a red dot before them in the grid.
    `cell_classes` ({column: one class per row}) marks cells on the wall only: "num" right-aligns
    a column the page formatted as text, "rag-<status>" colours a cell by its status.

    No pandas Styler in either: styling a handful of cells through it cost more of a wall
    screen's refresh than the rest of the table (bench/README.md, "Soak")."""
    red = None if red_rows is None else [bool(r) for r in red_rows]
    if not getattr(ctx, "kiosk", False):
        if red is not None:
            data = pd.concat([pd.DataFrame({RED_MARK_COLUMN: ["🔴" if r else "" for r in red]},
                                           index=data.index), data], axis=1)
        st.dataframe(data, **dataframe_args)
        return
    labels, formats = {}, {}
    for col, cfg in (dataframe_args.get("column_config") or {}).items():
        label = cfg if isinstance(cfg, str) else (cfg or {}).get("label")
        if label:
            labels[col] = label
        type_config = (cfg.get("type_config") or {}) if isinstance(cfg, dict) else {}
        number_format = type_config.get("format")
        if isinstance(number_format, str) and "%" in number_format and col in data:
            formats[col] = number_format
    view = data.assign(**{col: data[col].map(lambda v, f=f: "" if v is None or v != v else f % v)
                          for col, f in formats.items()}).rename(columns=labels)
    index = None if dataframe_args.get("hide_index", False) else view.index
    classes = {labels.get(col, col): cells for col, cells in (cell_classes or {}).items()}
    st.markdown(html_table(view, red, index, classes), unsafe_allow_html=True)


RED_MARK_COLUMN = " "  # the grid's marker column: no header, just the dot


def html_table(view: pd.DataFrame, red: Sequence[bool] | None = None, index=None,
               classes: Mapping[str, Sequence[str]] | None = None) -> str:
    """`view` as one HTML <table> (the kiosk CSS styles `.stApp table`); the `red` rows marked,
    numbers right-aligned, `classes` ({column: one class per row}) on their cells, empty cells for
    missing values, every text escaped."""
    numeric = ["num" if pd.api.types.is_numeric_dtype(view[c]) else "" for c in view.columns]
    extra = [list((classes or {}).get(c, [])) or [""] * len(view) for c in view.columns]
    head = ([str(getattr(index, "name", None) or "")] if index is not None else []) + [str(c) for c in view.columns]
    out = ["<table class=\"tower-table\"><thead><tr>",
           *(f"<th>{html.escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for i, values in enumerate(zip(*(view[c] for c in view.columns))):
        out.append('<tr class="tower-red">' if red and red[i] else "<tr>")
        if index is not None:
            out.append(f"<th>{html.escape(str(index[i]))}</th>")
        for value, number, cells in zip(values, numeric, extra):
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            names = " ".join(f"{number} {cells[i]}".split())
            out.append(f'<td class="{html.escape(names)}">' if names else "<td>")
            out.append(f"{html.escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def next_page(playlist: Sequence[str], current: str | None, known: Sequence[str]) -> str | None:
    """The screen after `current` in the playlist (wrapping round), skipping names that are not
    pages of this app. None when fewer than two real pages are listed (nothing to rotate)."""
    names = [p for p in playlist if p in known]
    if len(names) < 2 and not (names and current not in names):
        return None
    if current not in names:
        return names[0]
    return names[(names.index(current) + 1) % len(names)]


def rotated() -> bool:
    """Whether this full run is the kiosk's own move to the next page (not a viewer's action)."""
    return bool(st.session_state.get(ROTATED_KEY))


def turn_s(state) -> float:
    """Seconds this screen's first page stays up beyond `rotate_s`, so that kiosks switched on
    together (a wall powered up at once) do not all change page in the same refresh: each change is
    a full page run, and ten of them at once queued on the one interpreter while every other screen's
    refresh waited (bench/README.md, "Soak"), as the connectors did before they took phases
    (connectors.scheduler.phases). The k-th kiosk opened on this server starts k refreshes late,
    modulo the refreshes in one rotation: screens take turns, and keep them since each page's time
    starts when it is drawn. Zero when a rotation is no longer than a refresh."""
    if TURN_KEY not in st.session_state:
        st.session_state[TURN_KEY] = next(_TURNS)
    turns = int(state.rotate_s // state.refresh_s) if state.refresh_s else 0
    return float(st.session_state[TURN_KEY] % turns * state.refresh_s) if turns > 1 else 0.0


def rotate(state, current: str | None, pages: Mapping[str, object], query: Mapping[str, str]) -> None:
    """On a kiosk screen with a playlist, move to the next page once this page has been shown for
    `state.rotate_s` seconds (the screen's first page `turn_s` longer), carrying `query` (the full
    kiosk URL state) so the next screen stays in kiosk mode.

    Rotation is screen timing, so it uses the wall clock (time.monotonic), not the data clock: a
    sandbox running 60× faster must not flip screens 60× faster. A fragment ticks when the page's
    time is up, then every rotate_s; a full rerun of the same page (a filter change) does not
    restart the page's time."""
    st.session_state.pop(ROTATED_KEY, None)  # called after the page: its run is over
    if not state.kiosk or not state.playlist:
        return
    target = next_page(state.playlist, current, list(pages))
    if target is None:
        return
    shown = st.session_state.get(SHOWN_KEY)
    if not shown or shown[0] != current:
        late = 0.0 if TURN_KEY in st.session_state else turn_s(state)  # only the first page waits its turn
        st.session_state[SHOWN_KEY] = shown = (current, time.monotonic() + late)

    @st.fragment(run_every=max(state.rotate_s, shown[1] + state.rotate_s - time.monotonic()))
    def _tick() -> None:
        page, since = st.session_state.get(SHOWN_KEY, (current, time.monotonic()))
        # half a second of slack: the timer may fire a hair before rotate_s has fully elapsed
        if page == current and time.monotonic() - since >= state.rotate_s - 0.5:
            st.session_state.pop(SHOWN_KEY, None)
            st.session_state[ROTATED_KEY] = True
            st.switch_page(pages[target], query_params=dict(query))

    _tick()
