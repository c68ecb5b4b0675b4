"""Signed wall-screen links (issue 12 item 5): an admin issues a read-only, expiring, revocable link
for a playlist; the TV shows the board with it and nothing else; a tampered, expired or revoked link
is refused in words on the very next check; a non-admin can neither issue nor revoke."""
from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from tower import config as config_mod
from tower import runtime as runtime_mod
from tower.auth import policy, wall_tokens
from tower.auth.policy import Identity, Refused
from tower.db import Database
from ui_fixtures import open_app, populated_db, static_tables, tower_env  # noqa: F401

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
KEY = b"k" * 32  # a fixed signing key for the domain tests
ADMIN = policy.local_admin()
OPERATOR = Identity("op-1", "Olga Operator", frozenset({"operator"}))
VIEWER = Identity("v-1", "Vic Viewer", frozenset({"viewer"}))


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "tower.duckdb")
    yield d
    d.close()


def count(db, table: str) -> int:
    return int(db.df(f"select count(*) as n from {table}").n[0])  # noqa: S608 - test-only, fixed names


def issue(db, playlist="overview,map", hours=2, who=ADMIN, now=NOW):
    return wall_tokens.issue(db, who, playlist, "left TV", timedelta(hours=hours), now, secret=KEY)


def test_round_trip_gives_a_viewer_that_cannot_write(db):
    token = issue(db)
    verdict = wall_tokens.verify(db, token, NOW + timedelta(minutes=5), playlist="overview,map", secret=KEY)
    assert verdict.ok and verdict.reason is None
    who = verdict.identity
    assert who.subject == f"wall:{verdict.token_id}" and who.via == "wall_token"
    assert who.roles == {"viewer"} and who.can("view")
    for permission in ("operate", "approve", "analyse", "administer"):
        with pytest.raises(Refused):
            policy.require(who, permission)
    assert verdict.playlist == ("overview", "map")
    # the issue is audited with who did it
    audit = db.df("select actor, action, target from audit_log")
    assert audit.to_dict("records") == [{"actor": "local", "action": "wall_link.issue",
                                         "target": who.subject}]


def test_link_is_compact_and_url_safe(db):
    token = issue(db)
    assert len(token) < 80
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/% "


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=hs.integers(min_value=0), replacement=hs.sampled_from(_ALPHABET))
def test_any_changed_character_is_refused(db, position, replacement):
    token = _shared_token(db)
    i = position % len(token)
    if token[i] == replacement:
        replacement = "A" if replacement != "A" else "B"
    forged = token[:i] + replacement + token[i + 1:]
    verdict = wall_tokens.verify(db, forged, NOW, playlist="overview,map", secret=KEY)
    assert not verdict.ok and verdict.reason in (wall_tokens.BAD_SIGNATURE, wall_tokens.UNKNOWN)
    assert verdict.reason == wall_tokens.BAD_SIGNATURE


_TOKENS: dict = {}


def _shared_token(db) -> str:
    """One link per database (hypothesis reuses the function-scoped db across examples)."""
    return _TOKENS.setdefault(id(db), issue(db))


def test_changed_playlist_or_other_secret_is_refused(db):
    token = issue(db)
    for playlist in ("overview", "overview,map,sql_console", "map,overview"):
        assert wall_tokens.verify(db, token, NOW, playlist=playlist, secret=KEY).reason == "bad_signature"
    assert wall_tokens.verify(db, token, NOW, playlist="overview,map", secret=b"x" * 32).reason == "bad_signature"
    for junk in (None, "", "...", "a.b.c", "a.1.", token + ".x"):
        assert wall_tokens.verify(db, junk, NOW, playlist="overview,map", secret=KEY).reason == "bad_signature"


def test_expired_link_is_refused(db):
    token = issue(db, hours=1)
    assert wall_tokens.verify(db, token, NOW + timedelta(minutes=59), playlist="overview,map", secret=KEY).ok
    late = wall_tokens.verify(db, token, NOW + timedelta(hours=1), playlist="overview,map", secret=KEY)
    assert late.reason == wall_tokens.EXPIRED and late.identity is None


def test_revoked_link_is_refused_on_the_very_next_check(db):
    token = issue(db)
    verdict = wall_tokens.verify(db, token, NOW, playlist="overview,map", secret=KEY)
    assert verdict.ok
    assert wall_tokens.revoke(db, ADMIN, verdict.token_id, NOW + timedelta(seconds=1)) is True
    after = wall_tokens.verify(db, token, NOW + timedelta(seconds=2), playlist="overview,map", secret=KEY)
    assert after.reason == wall_tokens.REVOKED
    assert wall_tokens.revoke(db, ADMIN, verdict.token_id, NOW) is False  # already revoked: no change
    states = wall_tokens.links(db, ADMIN, NOW)
    assert states.state.tolist() == ["revoked"]
    assert db.df("select action from audit_log order by audit_id").action.tolist() == \
        ["wall_link.issue", "wall_link.revoke"]


def test_link_unknown_to_this_database_is_refused(db, tmp_path):
    token = issue(db)
    other = Database(tmp_path / "other.duckdb")
    try:
        assert wall_tokens.verify(other, token, NOW, playlist="overview,map", secret=KEY).reason == "unknown"
    finally:
        other.close()


@pytest.mark.parametrize("who", [OPERATOR, VIEWER, None], ids=["operator", "viewer", "nobody"])
def test_non_admin_cannot_issue_revoke_or_list_and_nothing_is_written(db, who):
    token = issue(db)
    token_id = token.split(".")[0]
    before = (count(db, "wall_tokens"), count(db, "audit_log"))
    with pytest.raises(Refused, match="admin"):
        wall_tokens.issue(db, who, "overview", "sneaky", timedelta(hours=1), NOW, secret=KEY)
    with pytest.raises(Refused):
        wall_tokens.revoke(db, who, token_id, NOW)
    with pytest.raises(Refused):
        wall_tokens.links(db, who, NOW)
    assert (count(db, "wall_tokens"), count(db, "audit_log")) == before
    assert wall_tokens.verify(db, token, NOW, playlist="overview,map", secret=KEY).ok, "still valid"


def test_bad_input_is_refused_in_words_and_writes_nothing(db):
    for playlist, valid_for in (("", timedelta(hours=1)), (" , ", timedelta(hours=1)),
                                ("overview", timedelta(0)), ("overview", timedelta(days=400))):
        with pytest.raises(wall_tokens.WallTokenError):
            wall_tokens.issue(db, ADMIN, playlist, "x", valid_for, NOW, secret=KEY)
    with pytest.raises(wall_tokens.WallTokenError, match="no wall-screen link"):
        wall_tokens.revoke(db, ADMIN, "never-issued", NOW)
    assert count(db, "wall_tokens") == 0 and count(db, "audit_log") == 0


def test_secret_order_and_generated_secret_file(tmp_path, monkeypatch):
    monkeypatch.delenv(wall_tokens.SECRET_ENV, raising=False)
    data = tmp_path / "data"
    generated = wall_tokens.server_secret(None, data)
    path = data / wall_tokens.SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert wall_tokens.server_secret(None, data) == generated, "links survive a restart"
    monkeypatch.setenv(wall_tokens.SECRET_ENV, "from-env")
    from_env = wall_tokens.server_secret(None, data)
    assert from_env != generated
    secrets_toml = tmp_path / "secrets.toml"
    secrets_toml.write_text('[wall]\nsecret = "from-wall-table"\n')
    assert wall_tokens.server_secret(secrets_toml, data) not in (generated, from_env)
    secrets_toml.write_text('[wall]\nsecret = "w"\n[auth]\ncookie_secret = "from-cookie"\n')
    cookie = wall_tokens.server_secret(secrets_toml, data)
    assert cookie != b"from-cookie" and b"from-cookie" not in cookie, "a derived key, not the secret itself"
    secrets_toml.write_text('[auth]\ncookie_secret = "from-cookie"\n')
    assert wall_tokens.server_secret(secrets_toml, data) == cookie, "[auth] cookie_secret wins"


# ── the wall screen itself (AppTest through app.py) ──────────────────────────────────────────────
def _app_link(cfg_path, db_path, playlist="overview"):
    """Issue a link on the app's database file before the app opens it; the app's own secret."""
    cfg = config_mod.load(cfg_path)
    d = Database(db_path)
    try:
        token = wall_tokens.issue(d, ADMIN, playlist, "test TV", timedelta(hours=1),
                                  datetime.now(timezone.utc), secret=wall_tokens.secret_for(cfg))
    finally:
        d.close()
    return token


def _texts(at) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "error", "caption", "info")
             for e in getattr(at, kind)]
    parts += [str(m.value) for m in at.metric]
    return "\n".join(map(str, parts))


def test_tv_link_shows_the_board_without_sign_in_and_only_its_pages(tower_env, populated_db):
    cfg = tower_env(populated_db.path)
    token = _app_link(cfg, populated_db.path, "overview,map")
    at = open_app(kiosk="1", playlist="overview,map", token=token)
    assert not at.exception
    assert [t.value for t in at.title] == ["War room"], "the board, no sign-in"
    assert len(at.metric) > 0, "with its numbers"
    assert not at.sidebar.children, "no sidebar actions on a wall screen"
    assert at.query_params["token"] == token and at.query_params["kiosk"] == "1"
    # the playlist's pages only: the SQL console and the admin page do not exist for this screen
    for page in ("pages/sql_console.py", "pages/wall_links.py", "pages/sources.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)  # not registered at all for this screen, so no URL reaches it
    at.switch_page("pages/map.py")
    at.run()
    assert not at.exception and at.title[0].value.startswith("Map")


def test_kiosk_is_forced_for_a_link_without_kiosk(tower_env, populated_db):
    cfg = tower_env(populated_db.path)
    token = _app_link(cfg, populated_db.path)
    at = open_app(playlist="overview", token=token)
    assert not at.exception
    assert at.query_params["kiosk"] == "1" and not at.sidebar.children


def test_revoked_link_shows_refusal_and_no_data_on_the_next_refresh(tower_env, populated_db):
    cfg = tower_env(populated_db.path)
    token = _app_link(cfg, populated_db.path)
    at = open_app(kiosk="1", playlist="overview", token=token)
    assert [t.value for t in at.title] == ["War room"]
    rt = runtime_mod.get()  # the running app's database (one DuckDB owner per process)
    wall_tokens.revoke(rt.db, ADMIN, token.split(".")[0], datetime.now(timezone.utc))
    at.run()  # the screen's next refresh
    assert not at.exception
    assert [t.value for t in at.title] == ["This screen's link was revoked"]
    assert "Ask a Tower admin" in _texts(at)
    assert not at.metric and not at.dataframe and not static_tables(at), "no data on a refused screen"


@pytest.mark.parametrize("mangle, words", [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "This screen's link is not valid"),
    (lambda t: "nonsense", "This screen's link is not valid"),
])
def test_bad_link_shows_refusal_in_words(tower_env, populated_db, mangle, words):
    cfg = tower_env(populated_db.path)
    token = _app_link(cfg, populated_db.path)
    at = open_app(kiosk="1", playlist="overview", token=mangle(token), lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == [words]
    assert not at.metric
    zh = open_app(kiosk="1", playlist="overview", token=mangle(token), lang="zh")
    assert [t.value for t in zh.title] == ["此大屏的链接无效"]


def test_admin_page_issues_lists_and_revokes(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app("pages/wall_links.py")
    assert not at.exception
    assert [t.value for t in at.title][-1] == "Wall screens"
    at.multiselect(key="wall_playlist").set_value(["overview", "map"])
    at.text_input(key="wall_label").set_value("Shenzhen left TV")
    next(b for b in at.button if b.label == "Issue link").click()
    at.run()
    assert not at.exception
    link = at.code[0].value
    assert "kiosk=1" in link and "playlist=overview,map" in link and "token=" in link
    assert any("Shenzhen left TV" in m.value and "valid" in m.value for m in at.markdown)
    revoke = [b for b in at.button if b.key and b.key.startswith("revoke-")]
    assert len(revoke) == 1
    revoke[0].click()
    at.run()
    assert not at.exception
    assert any("Shenzhen left TV" in m.value and "revoked" in m.value for m in at.markdown)
    # the link copied to the TV no longer works
    token = link.split("token=")[1]
    tv = open_app(kiosk="1", playlist="overview,map", token=token)
    assert [t.value for t in tv.title] == ["This screen's link was revoked"]


def test_admin_page_refuses_a_non_admin(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    at.session_state["tower.identity"] = OPERATOR
    at.switch_page("pages/wall_links.py")
    at.run()
    assert not at.exception
    assert any("may not manage wall-screen links" in e.value for e in at.error)
    assert not [m for m in at.multiselect if m.key == "wall_playlist"] and not at.code
