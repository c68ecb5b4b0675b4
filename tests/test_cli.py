"""`python -m connectors` as a real subprocess against the real sandbox on loopback: sync and status,
the locked-database message, and a sync killed with SIGKILL mid-run that the next run completes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from connectors.scheduler import Scheduler
from connectors.testing import duplicate_keys, sources_for, table_counts, table_rows, write_config
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
NAMES = ["supplier_portal", "aftership"]


def _cli(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "connectors", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


@pytest.fixture(scope="module")
def sandbox():
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1.0), ManualClock(T0))
    yield server
    requests.delete(f"{server.url}/_sandbox/faults", timeout=5)
    server.stop()


def _config(tmp_path, server, http=None):
    shops = [m.shop for m in server.world.merchants]
    sources = {k: v for k, v in sources_for(shops).items() if k in NAMES}
    return write_config(tmp_path, server.url, sources=sources, http=http)


def test_sync_then_status(sandbox, tmp_path):
    cfg = _config(tmp_path, sandbox)
    done = _cli("sync", "--config", str(tmp_path / "tower.toml"))
    assert done.returncode == 0, done.stderr
    assert "supplier_portal" in done.stdout and "aftership" in done.stdout and "ok" in done.stdout
    status = _cli("status", "--config", str(tmp_path / "tower.toml"))
    assert status.returncode == 0, status.stderr
    lines = [line for line in status.stdout.splitlines() if line.startswith(("aftership", "supplier_portal"))]
    assert len(lines) == 2 and all(" ok " in line for line in lines)
    db = Database(cfg.db_path)
    assert db.df("select count(*) n from shipments").n[0] > 0


def test_unknown_source_is_a_usage_error(sandbox, tmp_path):
    _config(tmp_path, sandbox)
    done = _cli("sync", "nope", "--config", str(tmp_path / "tower.toml"))
    assert done.returncode == 2 and "unknown source" in done.stderr and "Traceback" not in done.stderr


def test_locked_database_is_reported_without_a_traceback(sandbox, tmp_path):
    cfg = _config(tmp_path, sandbox)
    app_db = Database(cfg.db_path)  # this process plays the running app that owns the file
    try:
        for command in (["sync"], ["snapshot"]):
            done = _cli(*command, "--config", str(tmp_path / "tower.toml"))
            assert done.returncode == 2, (command, done.stdout, done.stderr)
            assert "locked" in done.stderr and "app" in done.stderr
            assert "Traceback" not in done.stderr + done.stdout
    finally:
        app_db.close()


def test_sync_killed_mid_run_leaves_a_consistent_db_that_the_next_run_completes(sandbox, tmp_path):
    # the clean result to compare with, synced in this process
    ref_cfg = _config(tmp_path / "reference", sandbox)
    ref = Database(ref_cfg.db_path)
    Scheduler(ref, ref_cfg, sandbox.clock).run_all()
    reference = {t: table_rows(ref, t) for t in ("shipments", "tracking_events", "purchase_orders")}
    ref.close()

    cfg = _config(tmp_path / "killed", sandbox, http={"read_timeout_s": 60, "retries": 0})
    config_path = str(tmp_path / "killed" / "tower.toml")
    # the trackings request hangs, so the subprocess is caught mid-run (after the portal committed)
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path_prefix": "/tracking", "kind": "timeout", "count": 1, "delay_s": 30}, timeout=5)
    proc = subprocess.Popen([sys.executable, "-m", "connectors", "sync", "--config", config_path], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()["faults"]:
            assert proc.poll() is None and time.monotonic() < deadline, "the sync never reached trackings"
            time.sleep(0.05)
        time.sleep(0.3)  # inside the hanging request now
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)

    db = Database(cfg.db_path)  # opens: the file is consistent after the kill
    runs = db.df("select source, status from sync_runs order by run_id")
    assert list(runs.status) == ["ok", "running"] and list(runs.source) == NAMES
    assert table_rows(db, "purchase_orders") == reference["purchase_orders"]  # committed before the kill
    assert table_counts(db)["shipments"] == 0  # the killed run wrote nothing
    db.close()

    done = _cli("sync", "--config", config_path)
    assert done.returncode == 0, done.stderr
    db = Database(cfg.db_path)
    for table, rows in reference.items():
        assert table_rows(db, table) == rows, table
    assert duplicate_keys(db) == {}
    statuses = db.df("select source, status, error from sync_runs order by run_id")
    killed = statuses.iloc[1]
    assert killed.status == "failed" and "interrupted" in killed.error
    assert list(statuses.status.iloc[2:]) == ["ok", "ok"]
