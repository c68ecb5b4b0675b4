"""The whole stack as `make run` starts it: `python -m tower` with the embedded sandbox, the real
connectors on their scheduler, the alerts engine and the Streamlit app, in one process; checked from
outside through HTTP, the published snapshot (a separate read-only DuckDB reader) and a real browser.

"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

from connectors.testing import TABLE_KEYS
from tests.served_app import shipped_config
from tests.test_browser import ARGS, CHROMIUM, free_port

ROOT = Path(__file__).resolve().parent.parent
FACT_TABLES = ["orders", "order_lines", "shipments", "tracking_events", "stock_observations",
               "purchase_orders", "po_progress", "returns", "nps_responses", "forecasts"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def wait_for(predicate, timeout_s: float, every_s: float = 1.0, what: str = "condition"):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class App:
    def __init__(self, url: str, sandbox_url: str, snapshot: Path, log: Path):
        self.url, self.sandbox_url, self.snapshot, self.log = url, sandbox_url, snapshot, log

    def read(self, sql: str):
        """Query the published snapshot from this (separate) process, read-only."""
        try:
            con = duckdb.connect(str(self.snapshot), read_only=True)
        except (duckdb.IOException, duckdb.InvalidInputException):
            return None  # not published yet, or being replaced at this instant
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def counts(self) -> dict[str, int] | None:
        rows = self.read(" union all ".join(f"select '{t}', count(*) from {t}" for t in TABLE_KEYS))
        return dict(rows) if rows else None


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The default tower.toml (sandbox speed, scenarios, sources and intervals as shipped), with only
    the ports, the data folder and the snapshot interval changed."""
    tmp = tmp_path_factory.mktemp("e2e")
    port, sandbox_port = free_port(), free_port()
    config = shipped_config(tmp, sandbox_port)
    log = tmp / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tower", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "TOWER_CONFIG": str(config)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            assert proc.poll() is None, log.read_text()
            try:
                return requests.get(f"{url}/_stcore/health", timeout=2).ok
            except requests.RequestException:
                return False
        wait_for(healthy, 90, what="/_stcore/health")
        yield App(url, f"http://127.0.0.1:{sandbox_port}", tmp / "data" / "snapshot" / "tower.duckdb", log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_fresh_start_fills_every_fact_table_within_a_minute(app):
    # no browser has connected: the runtime starts with the server, not with the first session
    polled = {"aftership", "shopify", "supplier_portal", "supplier_csv", "returns", "nps", "planning"}

    def all_filled():
        # webhooks may fill a table before its source's first poll has finished: wait for both
        counts = app.counts()
        ok = {r[0] for r in app.read("select distinct source from sync_runs where status = 'ok'") or []}
        return counts if counts and all(counts[t] > 0 for t in FACT_TABLES) and ok >= polled else None

    counts = wait_for(all_filled, 90, what="every fact table to hold sandbox data and every source to sync")
    assert counts["tracking_events"] > counts["shipments"] > 0


def test_injected_faults_show_as_failed_runs_and_lose_nothing(app):
    wait_for(app.counts, 60, what="a first snapshot")
    sandbox = requests.Session()
    sandbox.delete(f"{app.sandbox_url}/_sandbox/faults")
    before = app.counts()
    for kind in ("500", "malformed"):
        started = app.read("select coalesce(max(run_id), 0) from sync_runs")[0][0]
        r = sandbox.post(f"{app.sandbox_url}/_sandbox/faults",
                         json={"path_prefix": "/tracking", "kind": kind, "count": 1000})
        assert r.ok, r.text
        failed = wait_for(lambda: app.read(
            f"select error from sync_runs where source = 'aftership' and status = 'failed' "
            f"and run_id > {started}"), 60, what=f"a failed aftership run under fault {kind}")
        assert failed[0][0], "the failure says why"
        # the scheduler kept running the other sources meanwhile
        assert app.read(f"select count(*) from sync_runs where source <> 'aftership' and status = 'ok' "
                        f"and run_id > {started}")[0][0] > 0
        sandbox.delete(f"{app.sandbox_url}/_sandbox/faults")
        wait_for(lambda: app.read(f"select 1 from sync_runs where source = 'aftership' and status = 'ok' "
                                  f"and run_id > {started}"), 60, what="aftership to recover")
    after = wait_for(app.counts, 30, what="a snapshot")
    assert all(after[t] >= before[t] for t in TABLE_KEYS), (before, after)
    dupes = app.read("select count(*) - count(distinct (shipment_id, checkpoint_time, tag, message)) "
                     "from tracking_events")
    assert dupes == [(0,)]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}")
def test_sources_page_shows_a_failing_source_and_refreshes_on_its_own(app):
    from playwright.sync_api import sync_playwright

    sandbox = requests.Session()
    sandbox.post(f"{app.sandbox_url}/_sandbox/faults",
                 json={"path_prefix": "/tracking", "kind": "500", "count": 1000})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            # the first browser visit to this server is a deep link: it must still get the frame
            page.goto(f"{app.url}/sources?refresh=5")
            page.wait_for_selector(".tower-strip", timeout=90000)
            assert page.locator("h1").first.inner_text() == "Data sources"
            assert "refresh=5" in page.url
            page.evaluate("window.__towerMarker = 7")

            def runs_recorded() -> int:
                metric = page.locator('[data-testid="stMetric"]').filter(has_text="Runs recorded")
                return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))

            first = wait_for(lambda: runs_recorded() or None, 60, what="the runs metric")
            wait_for(lambda: runs_recorded() > first, 60, what="new runs without a reload")
            assert page.evaluate("window.__towerMarker") == 7, "the page was not reloaded"
            def failing_shown():
                body = page.inner_text("body")
                return body if re.search(r"aftership[^\n]*failed", body, re.I) else None

            body = wait_for(failing_shown, 120, what="aftership shown as failed")
            assert "Traceback" not in body
            page.screenshot(path=str(ROOT / "test-artifacts" / "e2e_sources_failing.png"))
            browser.close()
    finally:
        sandbox.delete(f"{app.sandbox_url}/_sandbox/faults")
