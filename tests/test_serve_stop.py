"""Stopping `python -m tower` (SIGTERM from a service manager, Ctrl-C) stops Tower's own threads
before the interpreter exits: a sync cut by the stop is closed in the run log as failed, saying why,
rather than left `running`; the process exits 0 instead of aborting inside DuckDB."""
import os
import signal
import subprocess
import sys

import duckdb
import pytest
import requests

from tests.served_app import QUIET, ROOT, shipped_config
from tests.test_browser import free_port
from tests.test_e2e import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_sigterm_mid_sync_closes_the_run_and_exits_cleanly(tmp_path):
    port, sandbox_port = free_port(), free_port()
    config = shipped_config(tmp_path, sandbox_port, snapshot_interval_s=600)
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    log = tmp_path / "tower.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tower", "--server.port", str(port), *QUIET],
                                cwd=ROOT, env={**os.environ, "TOWER_CONFIG": str(config)},
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        def healthy():
            assert proc.poll() is None, log.read_text()[-4000:]
            try:
                return requests.get(f"{sandbox}/_sandbox/faults", timeout=2).ok
            except requests.RequestException:
                return False
        wait_for(healthy, 90, every_s=0.2, what="the sandbox")
        # AfterShip's next request hangs for 8 s in the sandbox: the stop comes while it waits
        requests.post(f"{sandbox}/_sandbox/faults", json={"path_prefix": "/tracking", "kind": "timeout",
                                                          "count": 1, "delay_s": 8}, timeout=5).raise_for_status()
        wait_for(lambda: requests.get(f"{sandbox}/_sandbox/faults", timeout=2).json()["faults"] == [], 60, every_s=0.1,
                 what="AfterShip's request to reach the hanging fault")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    con = duckdb.connect(str(tmp_path / "data" / "tower.duckdb"), read_only=True)
    try:
        runs = con.execute("select source, status, error from sync_runs where finished_at is null "
                           "or status = 'running' or source = 'aftership' order by run_id").fetchall()
    finally:
        con.close()
    assert runs, "AfterShip ran"
    assert all(status != "running" for _, status, _ in runs), runs
    source, status, error = runs[-1]
    assert (source, status) == ("aftership", "failed") and "stopped before the run finished" in error, runs
    assert "Traceback" not in log.read_text()
