"""Shared fixtures. `sandbox_db`: one database synced from the sandbox through the real connectors
over real HTTP, once per test session, at a moment inside the member-day event (surge under way,
primary supplier silent). The world is anchored so that moment is the real "now", which lets the app
(running a system clock in AppTests) show it as live data. Treat it as read-only: copy it
(`sandbox_db.copy_to(tmp_path)`) before writing. Under pytest-xdist the workers share one: the first
to ask builds it (~45 s of syncing) while the others wait for it."""
from __future__ import annotations

import fcntl
import json
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Inside the default member-day window: the event starts 30 min after the anchor, the primary
# supplier goes silent 6 h after that.
HOURS_INTO_WORLD = 10
SYNC_EVERY, HISTORY_SYNCS = timedelta(hours=1), 9


@dataclass(frozen=True)
class SyncedDB:
    path: Path
    anchor: datetime       # the world's start (sim time at its start)
    now: datetime          # the clock reading the sync ran at
    history_days: float
    seed: int

    def copy_to(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / "tower.duckdb"
        shutil.copy(self.path, dest)
        return dest


@pytest.fixture(scope="session")
def sandbox_db(tmp_path_factory, worker_id) -> SyncedDB:
    if worker_id == "master":  # not under xdist: nobody to share with
        return _build_sandbox_db(tmp_path_factory.mktemp("sandbox_db"))
    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above every worker's own
    with open(shared / "sandbox_db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        built = shared / "sandbox_db.json"
        if built.exists():
            d = json.loads(built.read_text())
            return SyncedDB(Path(d["path"]), datetime.fromisoformat(d["anchor"]),
                            datetime.fromisoformat(d["now"]), d["history_days"], d["seed"])
        synced = _build_sandbox_db(shared / "sandbox_db")
        built.write_text(json.dumps({"path": str(synced.path), "anchor": synced.anchor.isoformat(),
                                     "now": synced.now.isoformat(), "history_days": synced.history_days,
                                     "seed": synced.seed}))
        return synced


def _build_sandbox_db(folder: Path) -> SyncedDB:
    from connectors.scheduler import Scheduler
    from connectors.testing import write_config
    from sandbox.server import start
    from tower.clock import ManualClock
    from tower.config import SandboxConfig
    from tower.db import Database

    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    anchor = now - timedelta(hours=HOURS_INTO_WORLD)
    clock = ManualClock(anchor)
    seed, history_days = 7, 7.0
    server = start(SandboxConfig(port=0, seed=seed, history_days=history_days,
                                 scenarios=("member_day",)), clock)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cfg = write_config(folder, server.url)
        db = Database.for_config(cfg)
        scheduler = Scheduler(db, cfg, clock)
        # Sync every SYNC_EVERY up to now, as the scheduler would: current-state APIs (Shopify
        # stock, supplier progress) only build history one observation per sync.
        for at in range(HISTORY_SYNCS, -1, -1):
            clock.set(now - at * SYNC_EVERY)
            results = scheduler.run_all()
            failed = {n: r and r.error for n, r in results.items() if r is None or r.status == "failed"}
            assert not failed, f"sandbox sync at {clock.now()} failed: {failed}"
        db.close()
    finally:
        server.stop()
    return SyncedDB(cfg.db_path, anchor, now, history_days, seed)


@pytest.fixture
def screens_first(monkeypatch):
    """A fresh process-wide tower.foreground.Foreground whose background wait is long enough to
    observe (10 s); tests.screens.DrawingScreen holds a screen drawing."""
    from tower import foreground

    fresh = foreground.Foreground(quiet_s=0.05, max_wait_s=10)
    monkeypatch.setattr(foreground, "shared", fresh)
    return fresh
