"""Where a vessel is between two ports: on the shortest sea lane (the `searoute` package's marine
network, offline), at the share of the voyage sailed. DCSA tells port calls, not positions at sea;
a straight line between Shanghai and Hamburg would cross Central Asia, the lane goes by Suez."""
from __future__ import annotations

import logging
import math
from bisect import bisect_left
from functools import lru_cache
from itertools import accumulate, pairwise

import pandas as pd
import searoute

log = logging.getLogger("tower.sea_routes")
EARTH_KM = 6371.0088


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points."""
    (lon1, lat1), (lon2, lat2) = (map(math.radians, p) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, h)))


@lru_cache(maxsize=4096)
def lane(origin: tuple[float, float], destination: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """The sea lane from `origin` to `destination` ((lon, lat) each) as (lon, lat) points; empty when
    the network has none (e.g. a port far inland)."""
    try:
        route = searoute.searoute(list(origin), list(destination))
    except Exception as e:  # noqa: BLE001 - no lane: the caller keeps its straight-line position
        log.warning("no sea lane %s → %s: %s", origin, destination, e)
        return ()
    return tuple((float(lon), float(lat)) for lon, lat in route["geometry"]["coordinates"])


def warm() -> None:
    """Build searoute's lane network now (Shanghai → Los Angeles): an app server calls it at start,
    so the first map render with a vessel at sea does not hold the interpreter for it."""
    lane((121.5, 31.2), (-118.2, 33.7))


def along(points: tuple[tuple[float, float], ...], share: float) -> tuple[float, float] | None:
    """The (lon, lat) `share` (0–1) of the way along `points`, by distance."""
    if len(points) < 2:
        return None
    legs = [_km(a, b) for a, b in pairwise(points)]
    walked = list(accumulate(legs))
    goal = max(0.0, min(1.0, share)) * walked[-1]
    i = min(bisect_left(walked, goal), len(legs) - 1)
    before = walked[i] - legs[i]
    t = (goal - before) / legs[i] if legs[i] else 0.0
    (lon1, lat1), (lon2, lat2) = points[i], points[i + 1]
    return lon1 + (lon2 - lon1) * t, lat1 + (lat2 - lat1) * t


def place_vessels(vessels: pd.DataFrame) -> pd.DataFrame:
    """`vessels` (queries/pages/map_vessels) with lat/lon moved onto the sea lane from the port of
    departure (from_lat/from_lon) to the port of discharge (to_lat/to_lon) at `share`; rows without
    a lane keep the query's straight-line position."""
    needed = {"from_lat", "from_lon", "to_lat", "to_lon", "share", "lat", "lon"}
    if vessels is None or vessels.empty or not needed <= set(vessels):
        return vessels
    out = vessels.copy()
    for i, r in out.iterrows():
        ends = [r.from_lon, r.from_lat, r.to_lon, r.to_lat]
        if any(pd.isna(v) for v in ends):
            continue
        spot = along(lane((float(r.from_lon), float(r.from_lat)), (float(r.to_lon), float(r.to_lat))),
                     0.5 if pd.isna(r.share) else float(r.share))
        if spot is not None:
            out.at[i, "lon"], out.at[i, "lat"] = round(spot[0], 4), round(spot[1], 4)
    return out
