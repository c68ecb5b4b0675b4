"""Who is using this browser session: `identity()` is the tower.auth.policy.Identity every page
passes to the domain functions that check it (the check itself is on the server, in the domain).

`resolve()` decides it once per run (tower.ui.frame.begin calls it, before any page is drawn):
1. a wall-screen link (?token=, tower.ui.wall_access): a viewer of its playlist, no interactive
   sign-in; a bad, expired or revoked link is refused there and the run stops;
2. sign-in configured ([auth] in the secrets): the signed-in user from `st.user` (the ID-token
   claims Streamlit validated), mapped to Tower roles by tower.auth.roles; nobody signed in → the
   sign-in screen and the run stops, so no page and no data are drawn;
3. local mode (no [auth]; `python -m tower` then binds 127.0.0.1 only): one local admin — unless a
   test already put an Identity in st.session_state[IDENTITY_KEY]. A client from another computer
   (however the server was started) is refused.

Other code reads `identity()` (never st.user): it is what the audit trail records as who."""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from tower.auth import policy, roles, serving
from tower.config import ROOT
from tower.runtime import get as runtime
from tower.ui import sign_in, wall_access
from tower.ui.filters import ViewState

log = logging.getLogger(__name__)
IDENTITY_KEY = "tower.identity"   # set once per run by resolve() (or by a test, in local mode)
DEFAULT_ROLES_FILE = "config/roles.toml"

def identity() -> policy.Identity:
    """Who uses this session, as resolve() decided. Outside a resolved run (e.g. a fragment after
    the sign-in ended) it is nobody when sign-in is on or the client is another computer — never
    the local admin there."""
    who = st.session_state.get(IDENTITY_KEY)
    if isinstance(who, policy.Identity):
        return who
    origin = client_origin()
    if auth_configured() or (origin and not serving.is_loopback(origin)):
        return policy.NOBODY
    return policy.local_admin()


def auth_configured() -> bool:
    """True when the secrets have an [auth] section: Streamlit's OIDC sign-in is on."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all (Streamlit's error subclasses it)
        return False


def client_origin() -> str:
    """The client's address for the audit trail ("" when Streamlit does not know it, e.g. localhost)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) else ""   # None on localhost; not a string under AppTest


def sign_in_settings() -> tuple[Path, str]:
    """(roles file, roles claim) from tower.toml's optional [sign_in] table."""
    cfg = getattr(runtime(), "config", None)
    table = (getattr(cfg, "raw", None) or {}).get("sign_in", {})
    path = Path(table.get("roles_file", DEFAULT_ROLES_FILE))
    return (path if path.is_absolute() else ROOT / path), str(table.get("roles_claim", roles.DEFAULT_ROLES_CLAIM))


def resolve(state: ViewState) -> policy.Identity:
    """Decide who uses this run (see the module docstring); stops the run when nobody may see data."""
    origin = client_origin()
    wall = wall_access.token_identity()  # before sign-in: a TV has no keyboard
    if wall is not None:
        st.session_state[IDENTITY_KEY] = wall
        return wall

    if not auth_configured():
        if origin and not serving.is_loopback(origin):
            # `python -m tower` binds loopback in local mode; this catches any other way of serving
            # (e.g. a bare `streamlit run` on every interface): no local admin for another computer
            st.session_state.pop(IDENTITY_KEY, None)
            sign_in.local_only_screen(origin, state.lang)   # stops the run
        current = st.session_state.get(IDENTITY_KEY)
        if not isinstance(current, policy.Identity):
            current = policy.local_admin(origin or "127.0.0.1")
            st.session_state[IDENTITY_KEY] = current
        if not state.kiosk:
            sign_in.local_banner(state.lang)
        return current

    if not st.user.get("is_logged_in"):
        st.session_state.pop(IDENTITY_KEY, None)
        sign_in.sign_in_screen(state.lang)   # stops the run
    roles_path, roles_claim = sign_in_settings()
    try:
        roles_file = roles.load_roles_file(roles_path)
    except roles.RolesFileError as e:
        log.error("roles file: %s", e)
        st.session_state.pop(IDENTITY_KEY, None)
        sign_in.roles_file_error(str(e), state.lang)   # stops the run
    try:
        who = roles.identity_from_claims(st.user.to_dict(), roles_file, roles_claim=roles_claim,
                                         origin=origin)
    except ValueError as e:
        st.session_state.pop(IDENTITY_KEY, None)
        sign_in.claims_error(str(e), state.lang)      # stops the run
    st.session_state[IDENTITY_KEY] = who
    if not who.roles:
        sign_in.no_role_screen(who, state.lang)       # stops the run
    if not state.kiosk:
        sign_in.user_panel(who, state.lang)
    return who
