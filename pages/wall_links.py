"""Wall screens: an admin issues a signed, expiring, read-only link for a playlist of pages, copies
it to the TV, sees every link's state and revokes one. The checks are in tower.auth.wall_tokens
(issue, revoke and the list refuse a non-admin themselves); this page only says so first, in words."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from tower.auth import wall_tokens
from tower.auth.policy import Refused
from tower.ui import choices, fmt, session, wall_access
from tower.ui.frame import context

ISSUED_KEY = "wall_links.issued"   # the last link issued in this session (shown until replaced)
UNIT_HOURS = {"hours": 1, "days": 24}

ctx = context()
t = ctx.t
st.title(t("wall.title"))
st.caption(t("wall.intro"))
who = session.identity()
if not who.can("administer"):
    st.error(t("wall.not_admin", name=who.name))
    st.stop()


def base_url() -> str:
    """Where this app is served from, so the link works when pasted into the TV's browser."""
    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # noqa: BLE001 - no browser context (bare script, tests): a relative link
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def link_for(playlist: list[str], token: str) -> str:
    query = urlencode({"kiosk": "1", "playlist": ",".join(playlist), "token": token}, safe=",")
    return f"{base_url()}/{playlist[0]}?{query}"


secret = wall_tokens.secret_for(ctx.runtime.config)
with st.form("wall_issue", clear_on_submit=False):
    playlist = st.multiselect(t("wall.playlist"), list(wall_access.WALL_PAGES), key="wall_playlist",
                              format_func=choices.labels(wall_access.WALL_PAGES, lambda p: t(f"nav.{p}")),
                              help=t("wall.playlist_help"))
    label = st.text_input(t("wall.label"), placeholder=t("wall.label_hint"), max_chars=120, key="wall_label")
    amount_col, unit_col = st.columns([2, 1])
    amount = amount_col.number_input(t("wall.valid_for"), min_value=1, max_value=8760, value=12, step=1)
    unit = unit_col.selectbox(t("wall.unit"), list(UNIT_HOURS),
                              format_func=choices.labels(UNIT_HOURS, lambda u: t(f"wall.unit_{u}")))
    submitted = st.form_submit_button(t("wall.issue"), type="primary")

if submitted:
    hours = int(amount) * UNIT_HOURS[unit]
    if not playlist:
        st.error(t("wall.need_pages"))
    elif hours > wall_tokens.MAX_VALID_FOR.days * 24:
        st.error(t("wall.too_long", days=wall_tokens.MAX_VALID_FOR.days))
    else:
        try:
            token = wall_tokens.issue(ctx.db, who, playlist, label, timedelta(hours=hours),
                                      datetime.now(timezone.utc), secret=secret)
            st.session_state[ISSUED_KEY] = link_for(playlist, token)
        except Refused:
            st.error(t("wall.not_admin", name=who.name))
        except wall_tokens.WallTokenError:
            st.error(t("wall.need_pages"))

if st.session_state.get(ISSUED_KEY):
    st.success(t("wall.issued"))
    st.code(st.session_state[ISSUED_KEY], language=None, wrap_lines=True)
    st.caption(t("wall.issued_once"))

st.subheader(t("wall.links"))
now = datetime.now(timezone.utc)
links = wall_tokens.links(ctx.db, who, now)
if links.empty:
    st.info(t("wall.none"))
for row in links.itertuples(index=False):
    with st.container(border=True, key=f"wall-link-{row.token_id}"):
        text_col, button_col = st.columns([5, 1])
        pages = " → ".join(t(f"nav.{p}") for p in str(row.playlist).split(","))
        text_col.markdown(f"**{row.label or row.token_id}** · {t('wall.state_' + row.state)}  \n"
                          f"{pages}  \n"
                          + t("wall.details", issued=fmt.ts(row.issued_at, ctx.lang, ctx.tz),
                              by=row.issued_by, expires=fmt.ts(row.expires_at, ctx.lang, ctx.tz))
                          + ("" if pd.isna(row.revoked_at) else
                             "  \n" + t("wall.revoked_at", at=fmt.ts(row.revoked_at, ctx.lang, ctx.tz),
                                        by=row.revoked_by)))
        if row.state == "valid" and button_col.button(t("wall.revoke"), key=f"revoke-{row.token_id}"):
            try:
                wall_tokens.revoke(ctx.db, who, row.token_id, datetime.now(timezone.utc))
            except Refused:
                st.error(t("wall.not_admin", name=who.name))
            except wall_tokens.WallTokenError:
                st.error(t("wall.unknown_link"))
            else:
                st.rerun()
