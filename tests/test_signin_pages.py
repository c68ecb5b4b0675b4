"""The sign-in part of the frame in AppTest: with [auth] configured, nobody signed in sees the sign-in
screen on every page and no data; a signed-in user gets the roles of their claims; a user with no
Tower role sees no data; local mode is one local admin with a banner (unless a test put an identity
in the session); a registered wall-token resolver is asked first."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui_fixtures import ROOT, open_app, populated_db, static_tables, tower_env  # noqa: F401
from tower import config as config_mod
from tower.auth import policy, wall_tokens
from tower.auth.policy import Identity
from tower.db import Database
from tower.ui import session

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "client_id": "tower", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
APP_PAGES = re.findall(r'"(pages/\w+\.py)"', (ROOT / "app.py").read_text())
OPERATOR = {"is_logged_in": True, "sub": "op-1", "name": "Oscar Operator", "email": "oscar@example.com",
            "roles": ["operator"]}


def app_with(user: dict, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = dict(AUTH)
    at.user = dict(user)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return at


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("title", "markdown", "caption", "warning", "error", "info")
                     for e in at.get(kind))


def shows_no_data(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sign in to Tower"]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart") and not static_tables(at)
    assert not at.sidebar.selectbox and not at.sidebar.radio, "no filters, no language switch"
    assert "War room" not in texts(at)


def test_nobody_signed_in_sees_only_the_sign_in_screen(tower_env, populated_db):
    tower_env(populated_db.path)
    at = app_with({"is_logged_in": False})
    at.run()
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Demo users" not in texts(at), "demo users only with TOWER_AUTH=dev"


@pytest.mark.parametrize("file", APP_PAGES)
def test_every_page_shows_the_sign_in_screen_once_signed_out(tower_env, populated_db, file):
    """Signed in on a page, then the sign-in ends (sign-out, expired cookie): the same page shows
    the sign-in screen and none of its data."""
    tower_env(populated_db.path)
    at = app_with(OPERATOR)
    at.run()
    at.switch_page(file)
    at.run()
    assert not at.exception, at.exception
    at.user = {"is_logged_in": False}
    at.run()
    shows_no_data(at)


def test_named_providers_get_a_button_each_in_chinese_too(tower_env, populated_db):
    tower_env(populated_db.path)
    at = app_with({"is_logged_in": False}, lang="zh")
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at.secrets["auth"] = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"],
                          "google": provider, "keycloak": provider}
    at.run()
    assert [t.value for t in at.title] == ["登录 Tower"]
    assert [b.label for b in at.button] == ["通过 google 登录", "通过 keycloak 登录"]


def test_dev_mode_lists_the_demo_users(tower_env, populated_db, monkeypatch):
    tower_env(populated_db.path)
    monkeypatch.setenv("TOWER_AUTH", "dev")
    at = app_with({"is_logged_in": False})
    at.run()
    shown = texts(at)
    for name in ("Vera Viewer", "Oscar Operator", "April Approver", "Ana Analyst", "Adam Admin",
                 "nordic-nest", "casa-verde"):
        assert name in shown


def test_a_signed_in_user_gets_the_roles_of_their_claims(tower_env, populated_db):
    tower_env(populated_db.path)
    at = app_with({**OPERATOR, "merchant": "nordic-nest"})
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "War room"
    who = at.session_state[session.IDENTITY_KEY]
    assert who == Identity("op-1", "Oscar Operator", frozenset({"operator"}), merchant="nordic-nest",
                           email="oscar@example.com", origin="", via="oidc")
    side = "\n".join(str(m.value) for m in at.sidebar.markdown) + "\n".join(c.value for c in at.sidebar.caption)
    assert "Oscar Operator" in side and "Role: operator" in side and "nordic-nest" in side
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert "Local mode" not in texts(at)


def test_a_user_without_a_tower_role_sees_no_data(tower_env, populated_db):
    tower_env(populated_db.path)
    at = app_with({"is_logged_in": True, "sub": "x", "name": "Nora", "roles": ["staff"]})
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["No Tower role"]
    assert "has no Tower role" in at.warning[0].value and "Ask a Tower admin" in at.warning[0].value
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert at.session_state[session.IDENTITY_KEY].roles == frozenset()


def test_a_broken_roles_file_is_shown_in_words_and_grants_nothing(tower_env, populated_db, tmp_path):
    bad = tmp_path / "roles.toml"
    bad.write_text('[users."oscar@example.com"]\nroles = ["superuser"]\n')
    tower_env(populated_db.path, f'[sign_in]\nroles_file = "{bad.as_posix()}"\n')
    at = app_with(OPERATOR)
    at.run()
    assert not at.exception
    assert "roles file is broken" in at.error[0].value and "unknown role" in at.code[0].value
    assert not at.metric and session.IDENTITY_KEY not in at.session_state


def test_the_roles_file_and_claim_name_come_from_tower_toml(tower_env, populated_db, tmp_path):
    roles_file = tmp_path / "roles.toml"
    roles_file.write_text('[users."oscar@example.com"]\nroles = ["approver"]\n')
    tower_env(populated_db.path, f'[sign_in]\nroles_file = "{roles_file.as_posix()}"\nroles_claim = "tower_roles"\n')
    at = app_with({**OPERATOR, "tower_roles": "analyst"})
    at.run()
    assert at.session_state[session.IDENTITY_KEY].roles == {"approver", "analyst"}


def test_local_mode_is_one_local_admin_with_a_banner(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    assert not at.exception
    who = at.session_state[session.IDENTITY_KEY]
    assert who.via == "local" and who.roles == {"admin"}
    assert "Local mode: one local admin, this computer only" in texts(at)
    zh = open_app(lang="zh")
    assert "本地模式：一位本地管理员，仅限本机访问" in texts(zh)
    assert "Local mode" not in texts(open_app(kiosk=1)), "no banner on a wall screen"


def test_local_mode_keeps_an_identity_a_test_put_in_the_session(tower_env, populated_db):
    tower_env(populated_db.path)
    viewer = Identity("t", "Test Viewer", frozenset({"viewer"}), via="local")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[session.IDENTITY_KEY] = viewer
    at.run()
    assert not at.exception
    assert at.session_state[session.IDENTITY_KEY] == viewer


def test_a_wall_screen_link_is_honoured_before_sign_in(tower_env, populated_db):
    """A TV has no keyboard: with sign-in on, a valid link shows the board with no sign-in screen;
    the same app without the link asks to sign in."""
    cfg = tower_env(populated_db.path)
    d = Database(populated_db.path)
    try:
        token = wall_tokens.issue(d, policy.local_admin(), "overview", "TV", timedelta(hours=1),
                                  datetime.now(timezone.utc), secret=wall_tokens.secret_for(config_mod.load(cfg)))
    finally:
        d.close()
    at = app_with({"is_logged_in": False}, kiosk=1, playlist="overview", token=token)
    at.run()
    assert not at.exception
    assert at.title[0].value == "War room"
    assert at.session_state[session.IDENTITY_KEY].via == "wall_token"
    at = app_with({"is_logged_in": False}, kiosk=1)
    at.run()
    assert [t.value for t in at.title] == ["Sign in to Tower"], "without the link: sign-in"
def _who_am_i():
    import streamlit as st

    from tower.ui import session as session_mod
    st.write(f"who: {session_mod.identity().name} {sorted(session_mod.identity().roles)}")


def test_identity_outside_a_resolved_run_is_nobody_when_sign_in_is_on():
    at = AppTest.from_function(_who_am_i)
    at.secrets["auth"] = dict(AUTH)
    at.run()
    assert at.markdown[0].value == "who: not signed in []"
    local = AppTest.from_function(_who_am_i)
    local.run()
    assert local.markdown[0].value == "who: local admin ['admin']"
