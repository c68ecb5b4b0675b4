"""A signed wall-screen link in a real browser (headless Debian Chromium, `streamlit run app.py`):
the TV link shows the board with no sign-in, rotation keeps the link, and once an admin revokes it
on the Wall screens page the TV's next refresh shows the refusal and no data."""
import os
from datetime import datetime, timedelta, timezone

import pytest

from tests.served_app import serve, streamlit_app
from tests.test_browser import ARTIFACTS, assert_no_errors, browser, free_port, settle  # noqa: F401
from tests.ui_fixtures import build_db, sample_rows, write_config
from tower import config as config_mod
from tower.auth import policy, wall_tokens
from tower.db import Database

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian chromium not installed"),
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def tv(tmp_path_factory):
    """(app url, [token, token]): a link for overview,map and one for overview alone, issued on the database before the server opens it,
    signed with the secret the server will use (the generated one in its data folder)."""
    tmp = tmp_path_factory.mktemp("wall_links")
    db_path = build_db(tmp / "tower.duckdb", sample_rows(datetime.now(timezone.utc)))
    cfg_path = write_config(tmp, db_path)
    env = {k: v for k, v in os.environ.items() if k != wall_tokens.SECRET_ENV}
    env["TOWER_CONFIG"] = str(cfg_path)
    os.environ.pop(wall_tokens.SECRET_ENV, None)
    cfg = config_mod.load(cfg_path)
    db = Database(db_path)
    try:
        tokens = [wall_tokens.issue(db, policy.local_admin(), playlist, label, timedelta(hours=1),
                                    datetime.now(timezone.utc), secret=wall_tokens.secret_for(cfg))
                  for playlist, label in (("overview,map", "browser TV"), ("overview", "one-page TV"))]
    finally:
        db.close()
    port = free_port()
    with serve(streamlit_app(port), f"http://127.0.0.1:{port}", env, tmp / "streamlit.log") as url:
        yield url, tokens


def test_tv_link_shows_the_board_and_stops_on_the_refresh_after_revocation(tv, browser):  # noqa: F811
    url, (token, one_page) = tv
    ARTIFACTS.mkdir(exist_ok=True)
    screen = browser.new_page(viewport={"width": 1920, "height": 1080})
    screen.goto(f"{url}/overview?kiosk=1&playlist=overview,map&rotate=5&token={token}")
    settle(screen)
    assert_no_errors(screen)
    assert screen.locator("h1").first.inner_text() == "War room"
    assert screen.locator(".stMetric").count() >= 4, "the board's numbers, no sign-in"
    sidebar = screen.locator(".stSidebar")
    assert not (sidebar.count() and sidebar.first.is_visible()), "no sidebar on a wall screen"
    # the rotation moves on and the next screen still carries the link
    screen.wait_for_function("() => document.querySelector('h1') && "
                             "document.querySelector('h1').innerText.startsWith('Map')", timeout=60000)
    assert f"token={token}" in screen.url
    screen.screenshot(path=str(ARTIFACTS / "wall_link_valid.png"))

    # a one-page screen never rotates: its live parts refresh as fragments, never reloading the app
    still = browser.new_page(viewport={"width": 1920, "height": 1080})
    still.goto(f"{url}/overview?kiosk=1&playlist=overview&refresh=5&token={one_page}")
    settle(still)
    assert still.locator("h1").first.inner_text() == "War room"

    admin = browser.new_page(viewport={"width": 1600, "height": 1000})
    admin.goto(f"{url}/wall_links")
    settle(admin)
    assert "browser TV" in admin.inner_text("body")
    revoke = admin.get_by_role("button", name="Revoke")
    for left in (1, 0):  # one click per link; wait for the list to redraw before the next (a loaded
        revoke.first.click()  # machine may take seconds, and a click on a stale button is lost)
        admin.wait_for_function(
            "n => [...document.querySelectorAll('button')].filter(b => b.innerText.trim() == 'Revoke').length == n",
            arg=left, timeout=60000)
        settle(admin)
    assert revoke.count() == 0

    screen.reload()
    screen.wait_for_function("() => document.body.innerText.includes(\"This screen's link was revoked\")",
                             timeout=60000)
    assert screen.locator(".stMetric").count() == 0, "no data after revocation"
    screen.screenshot(path=str(ARTIFACTS / "wall_link_revoked.png"))
    # the never-reloaded one-page screen stops on its own within a refresh interval or two
    still.wait_for_function("() => document.body.innerText.includes(\"This screen's link was revoked\")",
                            timeout=30000)
    assert still.locator(".stMetric").count() == 0
