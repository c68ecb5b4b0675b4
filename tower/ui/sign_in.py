"""What the sign-in part of the frame draws: the sign-in screen (one button per configured OIDC
provider; with `TOWER_AUTH=dev`, the demo users of the local provider), the "no Tower role" screen,
the local-mode banner and the sidebar's "signed in as" panel. Deciding who is signed in is
tower.ui.session's job; the screens that end a run call st.stop()."""
from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import NoReturn

import streamlit as st

from sandbox.demo_users import DEMO_USERS
from tower.auth.policy import Identity
from tower.ui import i18n

PROVIDER_KEYS = {"client_id", "server_metadata_url"}


def providers() -> list[str]:
    """The names st.login() accepts: "default" for a flat [auth] section, plus each [auth.<name>]."""
    auth = st.secrets.get("auth", {})
    named = [k for k, v in auth.items() if isinstance(v, Mapping) and PROVIDER_KEYS & set(v)]
    return (["default"] if PROVIDER_KEYS & set(auth) else []) + named


def role_names(roles, lang: str) -> str:
    return ", ".join(i18n.t(f"auth.role_{r}", lang) for r in sorted(roles)) or i18n.t("auth.no_roles", lang)


def sign_in_screen(lang: str) -> NoReturn:
    """Replace the whole app by the sign-in page (a one-page navigation, so no page of the app is
    listed or reachable) and stop the run."""
    def draw() -> None:
        st.title(i18n.t("auth.sign_in_title", lang))
        st.write(i18n.t("auth.sign_in_intro", lang))
        for name in providers():
            label = (i18n.t("auth.sign_in", lang) if name == "default"
                     else i18n.t("auth.sign_in_with", lang, provider=name))
            st.button(label, key=f"tower_sign_in_{name}", type="primary", on_click=st.login,
                      args=(name,))
        if os.environ.get("TOWER_AUTH") == "dev":
            demo_users(lang)

    st.navigation([st.Page(draw, title=i18n.t("auth.sign_in_title", lang), url_path="sign-in")],
                  position="hidden").run()
    st.stop()


def demo_users(lang: str) -> None:
    st.subheader(i18n.t("auth.demo_title", lang))
    st.caption(i18n.t("auth.demo_intro", lang))
    rows = [f"| `{u.subject}` | {u.name} | {role_names(u.roles, lang)} | {u.merchant or '—'} |"
            for u in DEMO_USERS]
    header = (f"| {i18n.t('auth.demo_button', lang)} | {i18n.t('auth.demo_name', lang)} | "
              f"{i18n.t('auth.demo_roles', lang)} | {i18n.t('auth.demo_merchant', lang)} |\n|---|---|---|---|\n")
    st.markdown(header + "\n".join(rows))


def no_role_screen(who: Identity, lang: str) -> NoReturn:
    st.title(i18n.t("auth.no_role_title", lang))
    st.warning(i18n.t("auth.no_role_text", lang, name=who.name, account=who.email or who.subject))
    st.button(i18n.t("auth.sign_out", lang), key="tower_sign_out_no_role", on_click=st.logout)
    st.stop()


def roles_file_error(detail: str, lang: str) -> NoReturn:
    st.error(f"**{i18n.t('auth.roles_file_error', lang)}**")
    st.code(detail[:2000], language=None)
    st.stop()


def claims_error(detail: str, lang: str) -> NoReturn:
    st.error(f"**{i18n.t('auth.claims_error', lang)}**\n\n{detail}")
    st.button(i18n.t("auth.sign_out", lang), key="tower_sign_out_claims", on_click=st.logout)
    st.stop()


def local_only_screen(origin: str, lang: str) -> NoReturn:
    st.title(i18n.t("auth.local_only_title", lang))
    st.error(i18n.t("auth.local_only_text", lang, origin=origin))
    st.stop()


def local_banner(lang: str) -> None:
    # markdown, not st.caption: a page's first caption is its time window (tests and readers rely on it)
    st.markdown(f'<div class="tower-local-banner" style="font-size:.8rem;color:#6b7480">🔒 '
                f'{html.escape(i18n.t("auth.local_banner", lang))}</div>', unsafe_allow_html=True)


def user_panel(who: Identity, lang: str) -> None:
    with st.sidebar:
        st.markdown(i18n.t("auth.signed_in_as", lang, name=who.name))
        st.caption(i18n.t("auth.your_roles", lang, roles=role_names(who.roles, lang)))
        if who.merchant:
            st.caption(i18n.t("auth.your_merchant", lang, merchant=who.merchant))
        st.button(i18n.t("auth.sign_out", lang), key="tower_sign_out", on_click=st.logout)
