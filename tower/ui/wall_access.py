"""A wall screen opened with a signed link (`?kiosk=1&playlist=overview,map&token=…`): who it is,
and what it may see. The link is verified on every run, so a revoked or expired link stops the
screen on its next refresh. A link's identity is a viewer: kiosk mode is forced (no sidebar, no
widgets), only the playlist's pages exist for it, and every write refuses it in the domain.

Wiring (app.py, after frame.start_runtime() and before frame.begin() and any sign-in gate):

    wall = wall_access.token_identity()          # None without ?token=; a bad link stops the run
    pages = wall_access.visible_pages(PAGES, wall) # only the playlist's pages for a wall screen
    ...kiosk.rotate(..., {**state.to_query(), **wall_access.carry()})   # the link follows rotation
    wall_access.watch(state.refresh_s)             # revocation stops a screen that never rotates
"""
from __future__ import annotations

import html
from datetime import datetime, timezone

import streamlit as st

from tower.auth import wall_tokens
from tower.auth.policy import Identity
from tower.runtime import get as runtime
from tower.ui import i18n
from tower.ui.filters import ViewState

TOKEN_PARAM = "token"
# Pages a wall link may show (app.py url paths): the boards. The SQL console, the sources page's
# controls and this feature's own admin page are for people at a keyboard, not for a TV.
WALL_PAGES = ("overview", "map", "alerts", "stock", "suppliers", "customers", "retro", "glossary")
REFUSAL_KEY = "wall-refusal"
# Readable across a room: the words take most of the screen, white on dark red.
REFUSAL_CSS = """
<style>
.stApp, .stMain { background: #3b0505 !important; }
.stAppHeader, .stSidebar, footer { display: none !important; }
.st-key-wall-refusal { padding: 6vh 4vw; }
.st-key-wall-refusal h1 { font-size: 6vw !important; line-height: 1.15 !important; color: #fff !important; }
.st-key-wall-refusal p { font-size: 3vw !important; line-height: 1.3 !important; color: #ffe3e3 !important; }
</style>
"""


def _params() -> dict[str, str]:
    return {k: st.query_params[k] for k in st.query_params}


def presented_token() -> str | None:
    return _params().get(TOKEN_PARAM) or None


def _verdict() -> wall_tokens.Verdict:
    rt = runtime()
    return wall_tokens.verify(rt.db, presented_token(), datetime.now(timezone.utc),
                              playlist=_params().get("playlist", ""),
                              secret=wall_tokens.secret_for(rt.config))


def token_identity() -> Identity | None:
    """The wall screen's identity when the URL carries `token=`, else None. A link that does not
    hold (bad signature, expired, revoked, unknown) draws the refusal and stops the run: nothing of
    the board is drawn. Forces kiosk mode in the URL so the frame draws no sidebar."""
    if presented_token() is None:
        return None
    verdict = _verdict()
    if not verdict.ok:
        refuse(verdict.reason, ViewState.from_query(_params()).lang)
    if _params().get("kiosk") != "1":
        st.query_params["kiosk"] = "1"
    return verdict.identity


def watch(every_s: int) -> None:
    """Re-check the link every `every_s` seconds. A wall screen's live parts refresh as fragments,
    which never re-run app.py, so without this a revoked link would keep a one-page screen (no
    rotation) showing data; a link that no longer holds re-runs the whole app, which refuses."""
    if presented_token() is None:
        return

    @st.fragment(run_every=every_s)
    def _check() -> None:
        if not _verdict().ok:
            st.rerun(scope="app")

    _check()


def refuse(reason: str | None, lang: str) -> None:
    """Draw the refusal in words, big, and stop the run."""
    st.html(REFUSAL_CSS)
    with st.container(key=REFUSAL_KEY):
        st.title(i18n.t(f"wall.refused_{reason or wall_tokens.BAD_SIGNATURE}", lang))
        st.markdown(html.escape(i18n.t("wall.refused_what_now", lang)))
    st.stop()


def visible_pages(pages: list[tuple], identity: Identity | None) -> list[tuple]:
    """`pages` as app.py's PAGES (section, file, url_path, icon): all of them normally; for a wall
    screen only the ones its signed playlist names (in the playlist's order), so no other page can
    be reached by editing the URL. A playlist naming no page refuses."""
    if identity is None or identity.via != "wall_token":
        return pages
    playlist = ViewState.from_query(_params()).playlist
    by_path = {p[2]: p for p in pages}
    chosen = [by_path[name] for name in playlist if name in by_path]
    if not chosen:
        refuse("empty_playlist", ViewState.from_query(_params()).lang)
    return chosen


def carry() -> dict[str, str]:
    """URL parameters the kiosk rotation must keep besides the view state: the link's token."""
    token = presented_token()
    return {TOKEN_PARAM: token} if token else {}
