"""A Tower process that only receives and loads webhooks, for the kill -9 test:

    python tests/webhook_app.py <tower.toml>

Prints the receiver's URL on one line, then serves until killed. `[webhooks] loader = false` in the
config keeps deliveries in the spool (stored and acknowledged, not loaded)."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors import webhooks  # noqa: E402
from tower import config as config_mod  # noqa: E402
from tower.db import Database  # noqa: E402

if __name__ == "__main__":
    cfg = config_mod.load(sys.argv[1])
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    print(hooks.url, flush=True)
    threading.Event().wait()
