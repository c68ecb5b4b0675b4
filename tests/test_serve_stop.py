"""Stopping `python -m tower` (SIGTERM from a service manager, Ctrl-C) stops Tower's own threads
before the interpreter exits: a sync cut by the stop is closed in the run log as failed, saying why,
rather than left `running`; the process exits 0 instead of aborting inside DuckDB. That holds from
the first line it logs, before Streamlit serves and installs its own handler, as well as after."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import requests

from tests.served_app import QUIET, ROOT, shipped_config
from tests.test_browser import free_port
from tests.test_e2e import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def start_tower(tmp_path: Path) -> tuple[subprocess.Popen, int, str, Path]:
    port, sandbox_port = free_port(), free_port()
    config = shipped_config(tmp_path, sandbox_port, snapshot_interval_s=600)
    log = tmp_path / "tower.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tower", "--server.port", str(port), *QUIET],
                                cwd=ROOT, env={**os.environ, "TOWER_CONFIG": str(config)},
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, port, f"http://127.0.0.1:{sandbox_port}", log


def stop_and_read_runs(proc: subprocess.Popen, log: Path, tmp_path: Path) -> list[tuple]:
    """SIGTERM, expect a clean exit, and return the run log's runs left open or AfterShip's."""
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "Tower stopped" in text and "Traceback" not in text, text[-4000:]
    con = duckdb.connect(str(tmp_path / "data" / "tower.duckdb"), read_only=True)
    try:
        runs = con.execute("select source, status, error from sync_runs where finished_at is null "
                           "or status = 'running' or source = 'aftership' order by run_id").fetchall()
    finally:
        con.close()
    assert all(status != "running" for _, status, _ in runs), runs
    return runs


def up(proc: subprocess.Popen, log: Path, url: str) -> bool:
    assert proc.poll() is None, log.read_text()[-4000:]
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_sigterm_mid_sync_closes_the_run_and_exits_cleanly(tmp_path):
    proc, port, sandbox, log = start_tower(tmp_path)
    try:
        # Streamlit serves, so its own handler has the signal
        wait_for(lambda: up(proc, log, f"http://127.0.0.1:{port}/_stcore/health"), 120, every_s=0.2,
                 what="the app")
        # AfterShip's next request hangs for 8 s in the sandbox: the stop comes while it waits
        requests.post(f"{sandbox}/_sandbox/faults", json={"path_prefix": "/tracking", "kind": "timeout",
                                                          "count": 1, "delay_s": 8}, timeout=5).raise_for_status()
        wait_for(lambda: requests.get(f"{sandbox}/_sandbox/faults", timeout=2).json()["faults"] == [], 60, every_s=0.1,
                 what="AfterShip's request to reach the hanging fault")
    except BaseException:
        proc.kill()
        raise
    runs = stop_and_read_runs(proc, log, tmp_path)
    assert runs, "AfterShip ran"
    source, status, error = runs[-1]
    assert (source, status) == ("aftership", "failed") and "stopped before the run finished" in error, runs


def test_sigterm_while_the_runtime_starts_exits_cleanly(tmp_path):
    """The stop arrives as the runtime starts (sandbox, syncs, alerts), long before Streamlit serves:
    a slow machine's service manager or an impatient Ctrl-C. Python's default would kill the process
    where it stands (exit -15), threads inside DuckDB and a sync left `running`."""
    proc, _, _, log = start_tower(tmp_path)
    try:
        wait_for(lambda: "serving in local" in log.read_text(), 120, every_s=0.05, what="the first log line")
    except BaseException:
        proc.kill()
        raise
    stop_and_read_runs(proc, log, tmp_path)
