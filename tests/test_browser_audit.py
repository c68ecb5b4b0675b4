"""A download in a real browser goes through the server's check and lands on the audit trail:
`streamlit run app.py` in local mode (one local admin), headless Chromium clicks the retro's data
pack, gets the zip, and the Audit page then lists that download under the file's name. (AppTest
cannot click a download: Streamlit builds the bytes only when a browser asks for them.)"""
import zipfile
from pathlib import Path

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, app_url, assert_no_errors, browser, settle  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}"),
    pytest.mark.timeout(300),
]


def test_a_retro_download_is_built_on_click_and_audited(app_url, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page.goto(f"{app_url}/retro")
    settle(page)
    page.get_by_role("tab", name="Export").click()
    with page.expect_download(timeout=90000) as info:
        page.get_by_role("button", name="Download data pack (zip of Parquet)").click()
    download = info.value
    name = download.suggested_filename
    assert name.startswith("tower_retro_data_") and name.endswith(".zip")
    saved = tmp_path / name
    download.save_as(saved)
    with zipfile.ZipFile(saved) as zf:
        assert "manifest.json" in zf.namelist()

    page.goto(f"{app_url}/audit")
    settle(page)
    assert_no_errors(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=60000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit_after_download.png"))
    # the grid is a canvas; its CSV-able text is reachable through the accessible table cells
    text = grid.evaluate("e => e.textContent")
    assert name in text and "downloaded" in text and "local admin" in text, text[:2000]
    # a table's own toolbar offers no unaudited CSV download (.streamlit/config.toml disableDataExport)
    grid.hover()
    page.wait_for_timeout(500)
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    assert toolbar.count() and toolbar.get_by_role("button", name="Download as CSV").count() == 0
    assert toolbar.get_by_role("button", name="Search").count() == 1   # the toolbar itself is there
    page.close()
