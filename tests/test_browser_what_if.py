"""The What-if page in a real browser (Playwright + Debian Chromium, as tests/test_browser.py): a
long run shows its progress while the page stays usable, another session's Overview loads while
the run is in flight, and Cancel stops it."""
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.served_app import serve, streamlit_app
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, assert_no_errors, free_port, settle
from tests.ui_fixtures import build_db, sample_rows, write_config
from tower.ui import what_if as inputs

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}"),
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser_what_if")
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


def test_a_run_shows_progress_does_not_block_overview_and_cancels(app_url, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{app_url}/what_if?scenario=member_day_surge")  # runs on any world
    settle(page)
    assert_no_errors(page)
    assert page.locator("h1").first.inner_text() == "What-if: scenarios on the digital twin"

    # the most runs the page allows: long enough to watch and to cancel
    runs = page.get_by_role("spinbutton", name="Simulation runs")
    runs.fill(str(inputs.MAX_RUNS))
    runs.press("Enter")
    settle(page)
    page.get_by_role("button", name="Run simulation").click()
    progress = page.locator(".st-key-what-if-job-progress")
    page.wait_for_function(
        "() => { const e = document.querySelector('.st-key-what-if-job-progress'); "
        "return e && e.innerText.includes('Simulating'); }", timeout=60000)
    first = progress.inner_text()
    assert "Simulating" in first, first
    page.screenshot(path=str(ARTIFACTS / "what_if_running.png"))

    # meanwhile a colleague opens the war room: it loads while the run goes on
    other = browser.new_page(viewport={"width": 1600, "height": 1000})
    started = time.time()
    other.goto(app_url + "/")
    settle(other)
    assert other.locator("h1").first.inner_text() == "War room"
    assert_no_errors(other)
    assert time.time() - started < 60, "the Overview waited for the simulation"
    page.wait_for_function(  # the run was still in flight (its progress still drawn, not the result)
        "() => { const e = document.querySelector('.st-key-what-if-job-progress'); "
        "return e && e.innerText.includes('Simulating'); }", timeout=5000)
    other.close()

    # the bar moves on by itself (the fragment ticks every second), then Cancel stops the run
    page.wait_for_function(
        "t => { const e = document.querySelector('.st-key-what-if-job-progress'); return e && e.innerText !== t; }",
        arg=first, timeout=30000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The run was cancelled").wait_for(timeout=60000)
    assert progress.count() == 0
    assert_no_errors(page)
    page.screenshot(path=str(ARTIFACTS / "what_if_cancelled.png"))
    page.close()


def test_a_finished_run_draws_the_fan_and_the_table_and_links_to_itself(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{app_url}/what_if?scenario=member_day_surge")
    settle(page)
    page.get_by_role("button", name="Run simulation").click()
    page.locator(".st-key-what-if-comparison").wait_for(timeout=120000)
    settle(page)
    assert_no_errors(page)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60000)  # the stock fan is drawn
    assert page.get_by_text("Winner:").count() or page.get_by_text("No response beats").count()
    assert "run=" in page.url, page.url
    page.locator(".js-plotly-plot").first.screenshot(path=str(ARTIFACTS / "what_if_fan.png"))
    page.locator(".st-key-what-if-comparison").screenshot(path=str(ARTIFACTS / "what_if_comparison.png"))

    # the link opens the stored result in another session
    shared = browser.new_page(viewport={"width": 1600, "height": 1000})
    shared.goto(page.url)
    settle(shared)
    shared.locator(".st-key-what-if-comparison").wait_for(timeout=60000)
    assert shared.get_by_text("Stored run #").count() == 1
    assert_no_errors(shared)
    shared.close()

    # the same link on a wall screen: dark, no sidebar, no Run controls, the table as large type
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(page.url + "&kiosk=1")
    settle(wall)
    wall.locator(".st-key-what-if-comparison table").wait_for(timeout=60000)
    assert_no_errors(wall)
    assert wall.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor") == "rgb(5, 8, 13)"
    assert wall.get_by_role("button", name="Run simulation").count() == 0
    assert not wall.locator('[data-testid="stSidebar"]').first.is_visible()
    wall.screenshot(path=str(ARTIFACTS / "what_if_kiosk.png"))
    wall.close()
    page.close()
