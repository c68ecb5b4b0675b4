"""Sign-in end to end: `TOWER_AUTH=dev python -m tower` (the sandbox's OIDC provider on loopback,
Streamlit's st.login/Authlib validating its signed ID tokens), driven by headless Chromium.
A cookie forged with another secret, or no cookie at all, is not signed in."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.served_app import serve, tower_app
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, assert_no_errors, free_port
from tests.ui_fixtures import build_db, sample_rows, write_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian chromium not installed at {CHROMIUM}"),
    pytest.mark.timeout(300),
]
USER_COOKIE = "_streamlit_user"   # Streamlit's signed identity cookie


@pytest.fixture(scope="module")
def dev_app(tmp_path_factory):
    """Tower in dev sign-in mode on a populated database; yields (app url, data folder)."""
    tmp = tmp_path_factory.mktemp("signin")
    db = build_db(tmp / "tower.duckdb", sample_rows(datetime.now(timezone.utc)))
    port, idp_port = free_port(), free_port()
    env = {**os.environ, "TOWER_CONFIG": str(write_config(tmp, db)), "TOWER_AUTH": "dev",
           "TOWER_AUTH_DEV_PORT": str(idp_port)}
    with serve(tower_app(port), f"http://localhost:{port}", env, tmp / "tower.log") as url:
        yield url, tmp


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def heading(page, text: str, timeout_s: float = 90) -> None:
    page.wait_for_selector(f"h1:has-text('{text}')", timeout=timeout_s * 1000)


def test_operator_signs_in_through_the_local_provider_and_out_again(dev_app, browser):
    url, _ = dev_app
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(url + "/")
    heading(page, "Sign in to Tower")
    page.get_by_text("Oscar Operator").first.wait_for(timeout=30000)  # the demo table, drawn after the title
    body = page.inner_text("body")
    assert "Oscar Operator" in body and "nordic-nest" in body, "the demo users are listed"
    assert "War room" not in body
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url("http://127.0.0.1:*/oauth2/authorize*", timeout=30000)   # the provider's page
    page.locator("button[name=sub][value=operator]").click()

    heading(page, "War room")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Oscar Operator").wait_for(timeout=30000)
    assert "Role: operator" in sidebar.inner_text()
    assert "Local mode" not in page.inner_text("body")
    assert_no_errors(page)
    assert any(c["name"] == USER_COOKIE for c in context.cookies())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "signin_operator.png"))

    # a new tab of the same browser is signed in too (the cookie, not the Streamlit session)
    again = context.new_page()
    again.goto(url + "/stock")
    again.locator('[data-testid="stSidebar"]').get_by_text("Oscar Operator").wait_for(timeout=60000)
    again.close()

    sidebar.get_by_role("button", name="Sign out").click()
    page.wait_for_url("http://127.0.0.1:*/oauth2/end_session*", timeout=30000)  # the provider's logout
    page.get_by_role("button", name="End session").click()
    heading(page, "Sign in to Tower")
    assert not any(c["name"] == USER_COOKIE for c in context.cookies())
    page.goto(url + "/alerts")
    heading(page, "Sign in to Tower")
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    assert "Signed in as" not in page.inner_text("body") and "War room" not in page.inner_text("body")
    context.close()


def test_no_cookie_or_a_forged_cookie_is_not_signed_in(dev_app, browser):
    url, data_dir = dev_app
    forged = {"sub": "admin", "name": "Forged Admin", "email": "adam.admin@tower.example",
              "roles": ["admin"], "is_logged_in": True, "provider": "default", "origin": url}
    # signed, but with a secret that is not the server's cookie_secret
    value = URLSafeTimedSerializer("not-the-server-secret", salt=USER_COOKIE).dumps(json.dumps(forged))
    # and one that is not signed at all
    for cookies in ([], [{"name": USER_COOKIE, "value": value, "url": url}],
                    [{"name": USER_COOKIE, "value": json.dumps(forged), "url": url}]):
        context = browser.new_context()
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        for path in ("/", "/sql_console", "/alerts"):
            page.goto(url + path)
            heading(page, "Sign in to Tower")
            page.get_by_role("button", name="Sign in", exact=True).wait_for()
            body = page.inner_text("body")
            assert "Forged Admin" not in body and "Signed in as" not in body and "War room" not in body
        context.close()
    # the dev sign-in kept its secret in the data folder, not in the user's .streamlit/secrets.toml
    dev_secrets = (data_dir / "auth" / "dev_secrets.toml").read_text()
    assert "cookie_secret" in dev_secrets and "not-the-server-secret" not in dev_secrets
