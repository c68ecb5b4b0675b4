"""Vessels at sea are drawn at sea: on the sea lane between their ports (connectors/sea_routes.py),
judged against the bundled Natural Earth land outline with a point-in-polygon test of its own."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from connectors import sea_routes

LAND = Path(__file__).resolve().parent.parent / "assets" / "world_110m.geojson"
SHANGHAI, HAMBURG, LOS_ANGELES, HAIPHONG = (121.5, 31.2), (9.97, 53.54), (-118.25, 33.73), (106.7, 20.85)


def _rings():
    geo = json.loads(LAND.read_text(encoding="utf-8"))
    for feature in geo["features"]:
        g = feature["geometry"]
        polygons = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for polygon in polygons:
            yield polygon[0]  # outer ring (holes: none that matter at 1:110m)


RINGS = list(_rings())


def on_land(lon: float, lat: float) -> bool:
    """Ray casting: inside any country's outer ring."""
    for ring in RINGS:
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
            if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                inside = not inside
        if inside:
            return True
    return False


def straight(a, b, share):
    return a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_shanghai_to_hamburg_goes_by_sea_where_the_straight_line_crosses_asia(share):
    spot = sea_routes.along(sea_routes.lane(SHANGHAI, HAMBURG), share)
    assert spot is not None and not on_land(*spot), f"{spot} is on land"
    assert on_land(*straight(SHANGHAI, HAMBURG, 0.5)), "the old straight-line position was on land"


def test_a_lane_starts_and_ends_at_its_ports():
    points = sea_routes.lane(SHANGHAI, LOS_ANGELES)
    start, end, mid = (sea_routes.along(points, s) for s in (0.0, 1.0, 0.5))
    assert sea_routes._km(start, SHANGHAI) < 60 and sea_routes._km(end, LOS_ANGELES) < 60
    total = sum(sea_routes._km(a, b) for a, b in zip(points, points[1:]))
    assert 9_000 < total < 12_000  # Shanghai → Los Angeles by sea is ~10,500 km
    assert not on_land(*mid)


def test_place_vessels_moves_rows_onto_their_lane_and_leaves_the_rest():
    vessels = pd.DataFrame([
        {"equipment_reference": "A", "from_lon": HAIPHONG[0], "from_lat": HAIPHONG[1], "to_lon": HAMBURG[0],
         "to_lat": HAMBURG[1], "share": 0.5, "lon": 58.3, "lat": 37.2},
        {"equipment_reference": "B", "from_lon": None, "from_lat": None, "to_lon": None, "to_lat": None,
         "share": None, "lon": 1.0, "lat": 2.0},
    ])
    placed = sea_routes.place_vessels(vessels).set_index("equipment_reference")
    assert not on_land(placed.loc["A", "lon"], placed.loc["A", "lat"])
    assert (placed.loc["B", "lon"], placed.loc["B", "lat"]) == (1.0, 2.0), "no ends: the query's position stays"
    assert sea_routes.place_vessels(pd.DataFrame()).empty
