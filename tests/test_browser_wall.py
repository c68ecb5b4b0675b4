"""Wall screens in a real browser (headless Debian Chromium through Playwright, the app started by
tests/test_browser.py's fixture on a populated database, sandbox off): the kiosk overview fits the
screen, every table follows the dark theme, and the map shows the world once and asks no host but
the app's own for anything while online tiles are off. Screenshots go to test-artifacts/."""
import io
from types import SimpleNamespace
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from tests.test_browser import ARTIFACTS, app_url, assert_no_errors, browser, settle  # noqa: F401
from tower.ui import kiosk

WALLS = [(1920, 1080, 1), (3840, 2160, 2)]  # a 4K wall's link carries &scale=2
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DARK = 80  # a background darker than this (0–255 luminance) reads as the wall's dark theme

pytestmark = pytest.mark.timeout(600)


def luminance(css_colour: str) -> float:
    """'rgb(17, 24, 33)' / 'rgba(…)' → 0–255 luminance; fully transparent counts as unknown (-1)."""
    parts = [float(p) for p in css_colour[css_colour.index("(") + 1:-1].split(",")]
    if len(parts) == 4 and parts[3] == 0:
        return -1
    r, g, b = parts[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def open_wall(browser, url: str, width: int, height: int):
    """A fresh page at the wall's size that records every request leaving the machine."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    remote = []

    def record(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            remote.append(request.url)

    page.on("request", record)
    page.goto(url)
    settle(page)
    return page, remote


def table_backgrounds(page) -> list[dict]:
    """For every HTML table: its own background, or the first non-transparent one above it."""
    return page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
        let e = t, bg = 'rgba(0, 0, 0, 0)';
        while (e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
            bg = getComputedStyle(e).backgroundColor; e = e.parentElement; }
        const cell = t.querySelector('td');
        return {bg, text: cell ? getComputedStyle(cell).color : 'rgb(255, 255, 255)'};
    })""")


def assert_tables_dark(page) -> None:
    tables = table_backgrounds(page)
    for t in tables:
        assert 0 <= luminance(t["bg"]) < DARK, t
        assert luminance(t["text"]) > 150, f"light text on the dark table: {t}"
    # an interactive grid (canvas) that a page still shows in kiosk mode is turned dark by filter
    for flt in page.evaluate("() => [...document.querySelectorAll('.stDataFrame')]"
                             ".map(e => getComputedStyle(e).filter)"):
        assert "invert(1)" in flt, flt


def bottom_of(page, selector: str) -> float:
    return page.evaluate("s => Math.max(...[...document.querySelectorAll(s)]"
                         ".map(e => e.getBoundingClientRect().bottom))", selector)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width,height,scale", WALLS)
def test_kiosk_overview_fits_the_wall_in_the_dark_theme(app_url, browser, width, height, scale, lang):
    query = f"?kiosk=1&lang={lang}" + (f"&scale={scale}" if scale != 1 else "")
    page, remote = open_wall(browser, app_url + "/" + query, width, height)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90000)
    assert_no_errors(page)
    page.screenshot(path=str(ARTIFACTS / f"wall_overview_{lang}_{width}x{height}.png"))
    assert page.locator(".stSidebar").count() == 0, "no sidebar on a wall screen"
    assert page.locator("table").count() >= 1, "the at-risk list is a table"
    assert_tables_dark(page)
    # the type follows the screen: twice the pixels, twice the letters
    root_px = float(page.evaluate("getComputedStyle(document.documentElement).fontSize")[:-2])
    assert 17 * width / 1920 <= root_px <= 21 * width / 1920, root_px
    # what the war room acts on first is on screen without scrolling: tiles, alert counts,
    # the sales chart and the stockout table
    for selector in ('[class*="st-key-rag-"]', ".js-plotly-plot", "table"):
        assert page.locator(selector).count(), selector
    for selector in ('[class*="st-key-rag-"]', "table"):
        assert bottom_of(page, selector) <= height, f"{selector} runs below the screen"
    first_chart = page.locator(".js-plotly-plot").first.bounding_box()
    assert first_chart["y"] + first_chart["height"] <= height, "sales chart cut"
    assert not remote, remote
    page.close()


@pytest.mark.parametrize("width,height,scale", WALLS)
def test_kiosk_overview_needs_no_scrolling(app_url, browser, width, height, scale):
    query = "?kiosk=1" + (f"&scale={scale}" if scale != 1 else "")
    page, _ = open_wall(browser, app_url + "/" + query, width, height)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90000)
    # Streamlit scrolls its main section, not the document: measure both
    scroll = page.evaluate("() => Math.max(document.documentElement.scrollHeight,"
                           " ...[...document.querySelectorAll('.stMain')].map(e => e.scrollHeight))")
    page.close()
    assert scroll <= height, f"the page is {scroll} px tall on a {height} px wall"


def canvas_pixels(page, selector: str) -> np.ndarray:
    png = page.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def repeat_period(px: np.ndarray, step: int = 4) -> tuple[int, float, float]:
    """(shift in px, its mean difference, the median difference over all shifts) for the
    horizontal shift at which the picture best matches itself; shifts keep ≥ 1/8 overlap."""
    small = px[::step, ::step]
    w = small.shape[1]
    diffs = {s: np.abs(small[:, s:] - small[:, :-s]).mean() for s in range(w // 8, w - w // 8)}
    shift = min(diffs, key=diffs.get)
    return shift * step, diffs[shift], float(np.median(list(diffs.values())))


@pytest.mark.parametrize("width,height,scale", WALLS)
def test_kiosk_map_shows_the_world_once_and_calls_no_remote_host(app_url, browser, width, height, scale):
    query = "?kiosk=1" + (f"&scale={scale}" if scale != 1 else "")
    page, remote = open_wall(browser, app_url + "/map" + query, width, height)
    page.wait_for_selector(".st-key-map-deck canvas", timeout=90000)
    page.wait_for_timeout(3000)  # let deck.gl draw (and any basemap request start)
    assert_no_errors(page)
    page.screenshot(path=str(ARTIFACTS / f"wall_map_{width}x{height}.png"))
    assert not remote, f"online tiles are off, yet the map asked: {remote[:5]}"

    box = page.locator(".st-key-map-deck canvas").first.bounding_box()
    expected_w = kiosk.content_width(SimpleNamespace(scale=scale))
    assert abs(box["width"] - expected_w) <= 2, (box, expected_w)  # the width the zoom was made for
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height * 1.05
    # World once: were the world drawn more than once across the map, the picture would match
    # itself shifted by one world's width. Look for such a period among all shifts.
    px = canvas_pixels(page, ".st-key-map-deck canvas")
    assert px.std() > 5, "the map drew something"
    period, best, typical = repeat_period(px)
    assert best > 0.4 * typical, \
        f"the world repeats every {period} px of {px.shape[1]} ({best:.1f} vs {typical:.1f})"
    assert_tables_dark(page)
    page.close()


def test_desk_map_without_online_tiles_calls_no_remote_host(app_url, browser):
    page, remote = open_wall(browser, app_url + "/map", 1920, 1080)
    page.wait_for_selector(".st-key-map-deck canvas", timeout=90000)
    page.wait_for_timeout(3000)
    assert_no_errors(page)
    toggle = page.get_by_text("Online map tiles")
    assert toggle.count() == 1, "the opt-in toggle is there, and off"
    assert not remote, remote
    page.close()
