"""Outbound parcels on the map (issue 11, item 6): destination cities geocoded offline, an unknown
city falls back to its country's centre (flagged), and the map page draws one great-circle arc per
outbound parcel in transit, warehouse → city, or the warehouse → city lanes."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from connectors.geocode import geocode, with_destinations
from sandbox.catalog import MARKETS
from tests.test_page_map import map_rows
from tests.ui_fixtures import build_db, open_app, tower_env  # noqa: F401
from tower.ui import map_layers as ml

CITIES = [(m, c.place.city, c.place.lat, c.place.lon) for m, (_, _, cities) in MARKETS.items() for c in cities]


def km(lat1, lon1, lat2, lon2) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    return 6371 * math.acos(min(1.0, math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)))


@pytest.mark.parametrize("market,city,lat,lon", CITIES, ids=[c[1] for c in CITIES])
def test_every_sandbox_city_resolves_near_the_truth(market, city, lat, lon):
    place = geocode(city, market)
    assert place.precision == "city", place
    assert km(place.lat, place.lon, lat, lon) < 25, place


def test_spelling_case_accents_and_alpha3_codes_do_not_matter():
    for city, country, truth in (("MONTRÉAL", "CAN", (45.50, -73.57)), ("cologne", "DE", (50.94, 6.96)),
                                 ("Seville", "ESP", (37.39, -5.98)), ("new york", "USA", (40.71, -74.01)),
                                 ("São Paulo", "BR", (-23.55, -46.63)), ("Shenzhen", "CN", (22.54, 114.06))):
        place = geocode(city, country)
        assert place.precision == "city" and km(place.lat, place.lon, *truth) < 25, (city, place)
    # two Portlands: the more populous (Oregon) wins when no state is known
    assert geocode("Portland", "US").lon < -120


@pytest.mark.parametrize("country,box", [
    ("US", (30, 45, -110, -85)), ("FR", (43, 49, -1, 6)), ("DE", (48, 54, 7, 14)), ("GB", (50, 56, -5, 1)),
])
def test_an_unknown_city_falls_back_to_its_countrys_centre_flagged(country, box):
    place = geocode("Atlantis-upon-Nowhere", country)
    assert place.precision == "country"
    lat_lo, lat_hi, lon_lo, lon_hi = box
    assert lat_lo < place.lat < lat_hi and lon_lo < place.lon < lon_hi, place
    assert geocode(None, country).precision == "country"


def test_no_country_no_place():
    assert geocode("Paris", None).precision == "unknown" and geocode("Paris", None).lat is None
    assert geocode("Paris", "ZZ").precision == "unknown"


def test_with_destinations_fills_only_missing_coordinates():
    df = pd.DataFrame({"destination_city": ["Berlin", "Berlin"], "destination_country": ["DE", "DE"],
                       "dest_lat": [1.0, None], "dest_lon": [2.0, None]})
    out = with_destinations(df)
    assert (out.loc[0, "dest_lat"], out.loc[0, "dest_lon"]) == (1.0, 2.0)
    assert km(out.loc[1, "dest_lat"], out.loc[1, "dest_lon"], 52.52, 13.405) < 25
    assert list(out["dest_precision"]) == ["city", "city"]


# ── the map page ────────────────────────────────────────────────────────────────────────────────
DESTINATIONS = {"SH-1": ("New York", "US"), "SH-2": ("Chicago", "US"), "SH-3": ("Atlantis", "US"),
                "SH-4": ("Boston", "US"), "SH-5": ("Munich", "DE")}


@pytest.fixture
def parcel_db(tmp_path):
    rows = map_rows(datetime.now(UTC))
    for s in rows["shipments"]:
        if s["shipment_id"] in DESTINATIONS:
            s["destination_city"], s["destination_country"] = DESTINATIONS[s["shipment_id"]]
    return build_db(tmp_path / "parcels.duckdb", rows), rows


def layers_of(at) -> dict:
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    return {layer["id"]: layer for layer in json.loads(decks[0].proto.json)["layers"]}


def test_map_draws_one_great_circle_arc_per_outbound_parcel_in_transit(tower_env, parcel_db):
    path, rows = parcel_db
    tower_env(path)
    at = open_app("pages/map.py", window="7d")
    assert not at.exception
    ships = pd.DataFrame(rows["shipments"])
    moving = ships[(ships["direction"] == "outbound") & ships["delivered_at"].isna() & (ships["tag"] != "Delivered")]
    layers = layers_of(at)
    arcs = {a["shipment_id"]: a for a in layers[ml.PARCEL_ARCS]["data"]}
    assert set(arcs) == set(moving["shipment_id"]) and len(arcs) == len(moving) == 4
    assert layers[ml.PARCEL_ARCS]["greatCircle"] is True
    assert not {a["shipment_id"] for a in layers[ml.ARCS]["data"]} & set(arcs), "parcels are not drawn twice"
    warehouses = {w["warehouse_id"]: (w["lat"], w["lon"]) for w in rows["warehouses"]}
    for sid, arc in arcs.items():
        wid = ships.set_index("shipment_id").loc[sid, "warehouse_id"]
        assert (arc["origin_lat"], arc["origin_lon"]) == warehouses[wid], "from the shipping warehouse"
    assert km(arcs["SH-1"]["dest_lat"], arcs["SH-1"]["dest_lon"], 40.71, -74.01) < 25
    assert km(arcs["SH-5"]["dest_lat"], arcs["SH-5"]["dest_lon"], 48.14, 11.58) < 25
    assert "approximate" in arcs["SH-3"]["detail"] and "approximate" not in arcs["SH-1"]["detail"]
    assert any("country's centre" in c.value for c in at.caption)


def test_lanes_view_aggregates_warehouse_to_city(tower_env, parcel_db):
    path, rows = parcel_db
    tower_env(path)
    at = open_app("pages/map.py", window="7d")
    at.toggle(key="map_lanes_view").set_value(True).run()
    assert not at.exception
    layers = layers_of(at)
    assert ml.PARCEL_ARCS not in layers
    lanes = {(a["warehouse_id"], a["destination_city"]): a for a in layers[ml.LANES]["data"]}
    ships = pd.DataFrame(rows["shipments"])
    outbound = ships[ships["direction"] == "outbound"]
    assert sum(a["parcels"] for a in lanes.values()) == len(outbound)
    assert set(lanes) == {(w, DESTINATIONS[s][0]) for s, w in zip(outbound["shipment_id"], outbound["warehouse_id"])}
    assert layers[ml.LANES]["greatCircle"] is True
    table = next(d.value for d in at.dataframe if "parcels" in d.value.columns)
    assert len(table) == len(lanes) and table["parcels"].sum() == len(outbound)
    assert any(s.value == "Outbound lanes" for s in at.subheader)
