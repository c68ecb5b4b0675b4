"""The app server settles after start (tower.runtime.settle): the map's gazetteer and sea-lane network
are built before any screen asks, and what the server keeps for its life is out of the cyclic
garbage collector's walks. Run in a fresh interpreter: the test process's own objects would blur the
counts."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.ui_fixtures import ROOT

PROBE = """
import gc, json, time
from connectors import geocode, sea_routes
from tower import runtime
tracked_before = len(gc.get_objects())
runtime.settle()
t = time.perf_counter(); geocode.geocode("Lyon", "FR"); first_geocode_s = time.perf_counter() - t
print(json.dumps({"tracked_before": tracked_before, "tracked_after": len(gc.get_objects()),
                  "frozen": gc.get_freeze_count(),
                  "lanes_built": sea_routes.lane.cache_info().currsize, "first_geocode_s": first_geocode_s}))
"""


def test_settle_builds_the_map_indexes_and_freezes_the_long_lived_heap():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["lanes_built"] >= 1
    assert facts["first_geocode_s"] < 0.05  # the gazetteer's index was built by settle, not by this lookup
    # the gazetteer and every module's objects are frozen: a full collection walks a small remainder
    assert facts["frozen"] > facts["tracked_before"]
    assert facts["tracked_after"] < facts["frozen"] / 10
