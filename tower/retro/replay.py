"""Replay: the war room as it stood at a past minute, rebuilt from the stored history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from tower import kpis
from tower.clock import utc
from tower.retro.data import run
from tower.retro.windows import py_datetime

REPLAY_KPIS = kpis.WAR_ROOM

@dataclass
class Replay:
    at: datetime
    stock: pd.DataFrame        # retro/replay_stock
    in_transit: pd.DataFrame   # retro/replay_in_transit
    tiles: list                # tower.kpis.Tile with $end = at


def replay(db, at: datetime, params: dict, window_start: datetime | None = None,
           targets: kpis.Targets | None = None) -> Replay:
    """The war room as it was at `at`, rebuilt from the stored history: stock from observations at
    or before `at`, shipments on the way then with their status then, and the KPI tiles computed
    with $end = at (windowed KPIs count from `window_start`, else the 24 h before `at`)."""
    at = utc(py_datetime(at))
    stock = run(db, "retro/replay_stock", {**params, "at": at})
    moving = run(db, "retro/replay_in_transit", {**params, "at": at})
    start = utc(py_datetime(window_start)) if window_start is not None else None
    if start is None or start >= at:
        start = at - timedelta(hours=24)
    tiles = kpis.tiles(db, REPLAY_KPIS, {**params, "start": start, "end": at}, targets)
    return Replay(at, stock, moving, tiles)

