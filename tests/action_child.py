"""A Tower process for the action engine's crash tests: opens the database, and either proposes one
notify action (printing its id) or executes one, killing itself with SIGKILL at a chosen step.

    python tests/action_child.py DB VENDOR_URL propose CHANNEL TEXT
    python tests/action_child.py DB VENDOR_URL execute ACTION_ID DIE_AT
DIE_AT: before_claim (while previewing, before "sending" is committed) | after_claim ("sending"
committed, request not sent) | after_http (the vendor answered, status not written) | after_status
(everything committed) | in_backoff (the first try failed, killed before the retry) | never."""
from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from action_vendor import NotifyClient, config_for

from connectors.actions import registry
from tower.actions import engine
from tower.auth.policy import Identity
from tower.db import Database, DatabaseLocked

NOW = datetime(2026, 7, 1, 10, tzinfo=timezone.utc)
OPERATOR = Identity("op-1", "Olga Operator", frozenset({"operator"}), via="local")

def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)

class Dying(NotifyClient):
    def __init__(self, url: str, die_at: str):
        super().__init__(url)
        self.die_at = die_at

    def preview(self, params, key):
        if self.die_at == "before_claim":
            die()
        return super().preview(params, key)

    def send(self, params, key):
        self.calls = getattr(self, "calls", 0) + 1
        if self.die_at == "after_claim" or (self.die_at == "in_backoff" and self.calls == 2):
            die()
        sent = super().send(params, key)
        if self.die_at == "after_http":
            die()
        return sent

def open_db(path: str) -> Database:
    """A second replica waits for the first to let go of the file (DuckDB has one writer process)."""
    for _ in range(400):
        try:
            return Database(path)
        except DatabaseLocked:
            time.sleep(0.05)
    raise SystemExit("database stayed locked")

def main(db_path: str, url: str, what: str, *args: str) -> None:
    cfg = config_for(Path(db_path))
    registry.FACTORIES["notify"] = lambda _cfg: Dying(url, args[1] if what == "execute" else "never")
    db = open_db(db_path)
    if what == "propose":
        action = engine.propose(db, cfg, OPERATOR, "notify", {"channel": args[0], "text": args[1]}, now=NOW)
        print(action.action_id, flush=True)
    else:
        engine.execute(db, cfg, OPERATOR, int(args[0]), now=NOW)
        if args[1] == "after_status":
            die()
    db.close()

if __name__ == "__main__":
    main(*sys.argv[1:])
