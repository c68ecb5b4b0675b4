"""Alert pieces the shared frame shows on every page: the red-alert banner (while a red alert is
unacknowledged), a flash and a short tone on wall screens when a new red alert appears (mutable),
and open-alert counts by severity. Reads only; never raises into the page."""
from __future__ import annotations

import html
import logging

import queries
from tower.ui import alert_text

log = logging.getLogger("tower.alerts.ui")
SEEN_KEY = "_tower_alerts_seen_red"      # highest red alert id this browser session has seen
MUTE_KEY = "tower_alerts_muted"

# A short two-tone chime made with WebAudio (no sound file to ship). Wall-screen browsers must
# allow autoplay (Chromium: --autoplay-policy=no-user-gesture-required) or it stays silent.
_CHIME = """
<script>
(function () {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    [[880, 0], [660, 0.25], [880, 0.5]].forEach(([f, t]) => {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f; o.type = "square"; g.gain.value = 0.15;
      o.connect(g); g.connect(ctx.destination);
      o.start(ctx.currentTime + t); o.stop(ctx.currentTime + t + 0.2);
    });
  } catch (e) {}
})();
</script>
"""

_FLASH_CSS = """
<style>
@keyframes tower-alert-flash { 0%, 100% { background: #e03131; } 50% { background: #5c0b0b; } }
.tower-alert-flash { animation: tower-alert-flash 0.6s ease-in-out 6; color: #fff; padding: .6rem 1rem;
  border-radius: .5rem; font-weight: 700; font-size: 1.4rem; margin-bottom: .5rem; }
</style>
"""


def open_alert_counts(db, now) -> dict[str, int]:
    """Unresolved, not snoozed alerts by severity: {"red": n, "yellow": m} (zeros included)."""
    counts = {"red": 0, "yellow": 0}
    try:
        df = db.df(queries.load("alerts/views/open_counts"), {"now": now})
    except Exception as e:  # noqa: BLE001 - e.g. a database older than the alerts migration
        log.warning("open alert counts failed: %s", e)
        return counts
    for row in df.itertuples(index=False):
        counts[str(row.severity)] = int(row.alerts)
    return counts


def unacknowledged_red(db, now):
    return db.df(queries.load("alerts/views/banner"), {"now": now})


def new_red_ids(red_ids: list[int], seen: int | None) -> list[int]:
    """Red alerts newer than the last one this screen has seen. The first look only remembers
    (a screen switched on mid-incident should not chime for old news)."""
    if seen is None:
        return []
    return [i for i in red_ids if i > seen]


def render_banner(ctx) -> None:
    """A red banner while any red alert is unacknowledged; on kiosk screens a flash and a chime
    when a new one appears, unless muted."""
    import streamlit as st

    try:
        reds = unacknowledged_red(ctx.db, ctx.now)
    except Exception as e:  # noqa: BLE001 - the banner must never break a page
        log.warning("alert banner query failed: %s", e)
        return
    ids = [int(i) for i in reds.alert_id] if len(reds) else []
    seen = st.session_state.get(SEEN_KEY)
    fresh = new_red_ids(ids, seen)
    st.session_state[SEEN_KEY] = max([seen or 0, *ids]) if (ids or seen is not None) else 0
    if not ids:
        return

    titles = "; ".join(html.escape(alert_text.title(r, t, ctx.lang)) for r, t in zip(reds.rule, reds.title[:3]))
    more = len(ids) - 3
    text = ctx.t("alerts.banner", n=len(ids)) + f" — {titles}" + (
        " " + ctx.t("alerts.banner_more", n=more) if more > 0 else "")
    muted = bool(st.session_state.get(MUTE_KEY, False))
    if ctx.kiosk and fresh:
        st.markdown(_FLASH_CSS + f'<div class="tower-alert-flash">🔴 {text}</div>', unsafe_allow_html=True)
        if not muted:
            st.html(_CHIME, unsafe_allow_javascript=True)
    else:
        st.error(text, icon="🔴")
    cols = st.columns([3, 1]) if ctx.kiosk else [st.container()]
    with cols[0]:
        try:
            st.page_link("pages/alerts.py", label=ctx.t("alerts.banner_open_page"), icon="🚨")
        except Exception:  # noqa: BLE001 - outside app.py's navigation (a page run on its own)
            pass
    if ctx.kiosk:
        with cols[1]:
            st.toggle(ctx.t("alerts.mute"), key=MUTE_KEY)
