"""Wall-screen (kiosk) mode: CSS that hides Streamlit's chrome and turns the page into a dark,
high-contrast, large-type board, and the playlist rotation (`?playlist=overview,map,stock&rotate=30`)
that moves to the next screen while keeping every kiosk parameter in the URL."""
from __future__ import annotations

import time
from typing import Mapping, Sequence

import streamlit as st

SHOWN_KEY = "_tower_kiosk_shown"  # (page url_path, monotonic time it was first shown)

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

KIOSK_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stMainMenu"], [data-testid="stSidebarNav"], footer { display: none !important; }
html { font-size: 20px; }
@media (min-width: 2800px) { html { font-size: 36px; } }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #05080d !important; color: #f5f7fa; }
[data-testid="stMainBlockContainer"], .block-container { padding: 1rem 1.5rem !important; max-width: 100% !important; }
.stApp h1, .stApp h2, .stApp h3, .stApp h4, .stApp p, .stApp li, .stApp label, .stApp span,
[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"] { color: #f5f7fa !important; }
[data-testid="stMetric"] { background: #111821; padding: .6rem .9rem; border-radius: .5rem; }
[data-testid="stMetricValue"] { font-size: 3rem !important; font-weight: 700; color: #ffffff !important; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem !important; color: #c9d1db !important; }
[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stExpander"] { border-color: #2b3440 !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentError"]) { background: #9b1c1c !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentWarning"]) { background: #7a5200 !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentInfo"]) { background: #123a63 !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentSuccess"]) { background: #14532d !important; }
[data-testid="stMetricDelta"] { background: transparent !important; font-size: 1.2rem !important; }
[data-testid="stCaptionContainer"] { font-size: 1rem !important; }
.tower-strip { font-size: 1.2rem; }
[data-testid="stTable"] table { background: #111821; color: #f5f7fa; font-size: 1.1rem; }
[data-testid="stTable"] th { background: #1b2430 !important; color: #c9d1db !important; }
[data-testid="stTable"] td, [data-testid="stTable"] th { border-color: #2b3440 !important; }
</style>
"""


def css(kiosk: bool) -> str:
    return BASE_CSS + (KIOSK_CSS if kiosk else "")


def inject(kiosk: bool) -> None:
    st.markdown(css(kiosk), unsafe_allow_html=True)


def next_page(playlist: Sequence[str], current: str | None, known: Sequence[str]) -> str | None:
    """The screen after `current` in the playlist (wrapping round), skipping names that are not
    pages of this app. None when fewer than two real pages are listed (nothing to rotate)."""
    names = [p for p in playlist if p in known]
    if len(names) < 2 and not (names and current not in names):
        return None
    if current not in names:
        return names[0]
    return names[(names.index(current) + 1) % len(names)]


def rotate(state, current: str | None, pages: Mapping[str, object], query: Mapping[str, str]) -> None:
    """On a kiosk screen with a playlist, move to the next page once this page has been shown for
    `state.rotate_s` seconds, carrying `query` (the full kiosk URL state) so the next screen stays
    in kiosk mode.

    Rotation is screen timing, so it uses the wall clock (time.monotonic), not the data clock: a
    sandbox running 60× faster must not flip screens 60× faster. A fragment ticks every rotate_s;
    a full rerun of the same page (a filter change) does not restart the page's time."""
    if not state.kiosk or not state.playlist:
        return
    target = next_page(state.playlist, current, list(pages))
    if target is None:
        return
    shown = st.session_state.get(SHOWN_KEY)
    if not shown or shown[0] != current:
        st.session_state[SHOWN_KEY] = (current, time.monotonic())

    @st.fragment(run_every=state.rotate_s)
    def _tick() -> None:
        page, since = st.session_state.get(SHOWN_KEY, (current, time.monotonic()))
        # half a second of slack: the timer may fire a hair before rotate_s has fully elapsed
        if page == current and time.monotonic() - since >= state.rotate_s - 0.5:
            st.session_state.pop(SHOWN_KEY, None)
            st.switch_page(pages[target], query_params=dict(query))

    _tick()
