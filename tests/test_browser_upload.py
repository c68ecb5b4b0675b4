"""The manual upload in a real browser: headless Chromium picks a sheet in the Sources page's file
input, presses "Check and load", and reads the outcome the page draws (same server fixture as
tests/test_browser.py: `streamlit run app.py` on the sample database)."""
import os
from datetime import datetime, timedelta, timezone

import pytest

from tests.served_app import serve, streamlit_app
from tests.test_browser import assert_no_errors, browser, free_port, pytestmark, settle  # noqa: F401
from tests.test_manual_upload import sample_db
from tests.ui_fixtures import write_config


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """`streamlit run app.py` on the sample database (sandbox and sources off)."""
    tmp = tmp_path_factory.mktemp("browser_upload")
    db = sample_db(tmp / "tower.duckdb", datetime.now(timezone.utc))
    port = free_port()
    env = {**os.environ, "TOWER_CONFIG": str(write_config(tmp, db))}
    with serve(streamlit_app(port), f"http://127.0.0.1:{port}", env, tmp / "streamlit.log") as url:
        yield url


def upload(page, name: str, body: bytes) -> str:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": body}])
    page.get_by_role("button", name="Check and load").click()
    # this sheet's outcome, which names it: the previous upload's alert is still on the page until
    # the rerun replaces it (waiting for any alert returned before good.csv's was drawn)
    page.wait_for_selector(f'[data-testid="stAlertContentSuccess"]:has-text("{name}"), '
                           f'[data-testid="stAlertContentError"]:has-text("{name}")', timeout=60000)
    settle(page)
    return page.inner_text("body")


def test_an_operator_uploads_a_stock_sheet_in_the_browser(app_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1600, "height": 2400})
    page.goto(f"{app_url}/sources")
    settle(page)
    assert_no_errors(page)
    at = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    bad = f"sku,warehouse,available,counted_at\nGL-BOWL-01,US-WEST-LA,3 cartons,{at}\n".encode()
    body = upload(page, "bad.csv", bad)
    assert "bad.csv was NOT loaded: 1 problem(s)" in body
    assert "manual data uploaded" not in body, "nothing loaded"
    # the row report is a data grid (drawn on a canvas): present beside the status and recent-upload grids
    assert page.locator('[data-testid="stDataFrame"]').count() >= 3

    good = f"sku,warehouse,available,counted_at\nGL-BOWL-01,US-WEST-LA,33,{at}\n".encode()
    body = upload(page, "good.csv", good)
    assert "Loaded good.csv: 1 rows checked, 1 rows new or changed." in body
    assert "manual data uploaded by local admin" in body
    assert_no_errors(page)
    page.close()
