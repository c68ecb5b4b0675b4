"""The real app in a real browser: `streamlit run app.py` against a populated database, driven by
headless Debian Chromium through Playwright. Screenshots go to test-artifacts/ (gitignored)."""
import os
import re
import socket
import time
from pathlib import Path

import pytest

from tests.served_app import serve, streamlit_app
from tests.ui_fixtures import ROOT, build_db, sample_rows, write_config

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
ERROR_TEXT = ("Traceback (most recent call last)", "StreamlitAPIException", "KeyError:", "NameError:",
              "Tower could not start")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}"),
    pytest.mark.timeout(300),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A Streamlit server running app.py on a populated database (sandbox and sources off)."""
    from datetime import datetime, timezone

    tmp = tmp_path_factory.mktemp("browser")
    db = build_db(tmp / "tower.duckdb", sample_rows(datetime.now(timezone.utc)))
    port = free_port()
    env = {**os.environ, "TOWER_CONFIG": str(write_config(tmp, db))}
    with serve(streamlit_app(port), f"http://127.0.0.1:{port}", env, tmp / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def settle(page, timeout_s: float = 90) -> None:
    """Wait until the script has run: the title is drawn and the 'running' widget is gone."""
    page.wait_for_selector("h1", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    time.sleep(1.0)
    while time.time() < deadline and page.locator('[data-testid="stStatusWidget"]').count():
        time.sleep(0.3)
    time.sleep(1.0)


def assert_no_errors(page) -> None:
    body = page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0
    for text in ERROR_TEXT:
        assert text not in body, text


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_overview_renders_at_wall_sizes(app_url, browser, width, height):
    ARTIFACTS.mkdir(exist_ok=True)
    for kiosk in (False, True):
        page = browser.new_page(viewport={"width": width, "height": height})
        # a 4K wall screen's kiosk link also asks for charts twice as large
        query = ("?kiosk=1" + ("&scale=2" if width > 3000 else "")) if kiosk else ""
        page.goto(app_url + "/" + query)
        settle(page)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90000)
        assert_no_errors(page)
        assert page.locator("h1").first.inner_text() == "War room"
        assert page.locator('[data-testid="stMetric"]').count() >= 8
        assert page.locator(".js-plotly-plot").count() >= 2, "sales vs forecast and in-transit charts"
        assert page.locator(".js-plotly-plot .bars path, .js-plotly-plot .point path").count() > 0, "bars drawn"
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert (sidebar.count() and sidebar.first.is_visible()) != kiosk, "kiosk hides the sidebar"
        if kiosk:  # dark wall-screen theme
            bg = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
            assert bg == "rgb(5, 8, 13)"
        page.screenshot(path=str(ARTIFACTS / f"overview_{width}x{height}{'_kiosk' if kiosk else ''}.png"))
        page.close()


def test_kiosk_rotates_through_three_pages_and_stays_in_kiosk(app_url, browser):
    third = next(p for p in ("stock", "map", "glossary", "alerts") if (ROOT / "pages" / f"{p}.py").exists())
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{app_url}/?kiosk=1&playlist=overview,sources,{third}&rotate=5&market=US")
    settle(page)
    seen = [page.locator("h1").first.inner_text()]
    for step in range(3):
        page.wait_for_function(
            "t => { const h = document.querySelector('h1'); return h && h.innerText !== t; }",
            arg=seen[-1], timeout=90000)
        settle(page)
        seen.append(page.locator("h1").first.inner_text())
        url = page.url
        # (the playlist may be percent-encoded or not; kiosk and market must be there either way)
        assert "kiosk=1" in url and "market=US" in url, url
        assert f"playlist=overview%2Csources%2C{third}" in url or f"playlist=overview,sources,{third}" in url, url
        assert not page.locator('[data-testid="stSidebar"]').first.is_visible()
        assert_no_errors(page)
        page.screenshot(path=str(ARTIFACTS / f"kiosk_rotation_{step + 1}.png"))
    assert seen[0] == "War room" and seen[1] == "Data sources" and seen[3] == "War room", seen
    assert len(set(seen)) == 3, f"three different screens: {seen}"
    page.close()


def test_live_status_updates_without_a_reload(app_url, browser):
    """The status strip is a fragment with run_every=?refresh: its clock (the runtime's 'now', to
    the second) and 'updated … ago' must move on by themselves while the page stays the same
    document (a marker set in JS survives, so nothing reloaded)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{app_url}/?refresh=5")
    settle(page)
    page.evaluate("window.__towerMarker = 42")
    strip = page.locator(".tower-strip").first

    def clock_s() -> int:
        text = strip.inner_text()
        m = re.search(r"(\d\d):(\d\d):(\d\d) UTC", text)
        assert m and "updated" in text, text
        h, mi, se = map(int, m.groups())
        return h * 3600 + mi * 60 + se

    first = clock_s()
    time.sleep(12)
    second = clock_s()
    assert (second - first) % 86400 >= 5, (first, second)
    assert page.evaluate("window.__towerMarker") == 42, "no reload happened"
    page.close()
