"""The red-alert banner the shared frame shows on every page while a red alert is unacknowledged,
with a flash and a short tone on wall screens when a new one appears (mutable). The data comes from
tower.alerts.ui; this module only draws."""
from __future__ import annotations

import html
import logging

import streamlit as st

from tower.alerts.ui import new_red_ids
from tower.ui import alert_text
from tower.ui.context import cached_query

log = logging.getLogger("tower.ui.alert_banner")
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
.tower-alert-flash { animation: tower-alert-flash 0.6s ease-in-out 6; background: #5c0b0b; color: #fff; padding: .6rem 1rem;
  border-radius: .5rem; font-weight: 700; font-size: 1.4rem; margin-bottom: .5rem; }
</style>
"""


def render_banner(ctx) -> None:
    """A red banner while any red alert is unacknowledged; on kiosk screens a flash and a chime
    when a new one appears, unless muted."""
    try:
        # every page of every screen draws the banner: one query per data version and quantum
        reds = cached_query(ctx.db, "alerts/views/banner", ctx.params())
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
