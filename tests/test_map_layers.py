"""tower.ui.map_layers: the offline outline asset and the deck built from query results."""
import json
import math

import pandas as pd
import pytest

from tower.ui import fmt, i18n
from tower.ui import map_layers as ml
from tower.ui import map_view as mv


def test_world_outline_asset_is_small_complete_and_valid():
    assert ml.WORLD_OUTLINE.stat().st_size <= 300 * 1024
    world = ml.world_outline()
    assert world["type"] == "FeatureCollection"
    assert len(world["features"]) == 177  # Natural Earth 1:110m admin-0 countries
    by_iso = {f["properties"]["iso_a3"]: f for f in world["features"]}
    assert {"CHN", "USA", "VNM", "DEU"} <= set(by_iso)
    for feature in world["features"]:
        geom = feature["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]  # closed rings
                assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)
    # Vietnam's outline contains Hanoi's longitude range
    vn = by_iso["VNM"]["geometry"]
    ring = vn["coordinates"][0] if vn["type"] == "Polygon" else vn["coordinates"][0][0]
    lons = [x for x, _ in ring]
    assert min(lons) < 105.85 < max(lons)


def frames():
    nodes = pd.DataFrame([{"node_id": "CNSZX", "name": "Shenzhen", "kind": "port", "lat": 22.5, "lon": 114.3,
                           "status": "congested"},
                          {"node_id": "USLAX", "name": "Los Angeles", "kind": "port", "lat": 33.7, "lon": -118.3,
                           "status": "normal"}])
    suppliers = pd.DataFrame([{"supplier_id": "VN-1", "name": "Hanoi", "tier": "primary", "country": "VN",
                               "lat": 21.0, "lon": 105.9}])
    warehouses = pd.DataFrame([{"warehouse_id": "LA", "name": "LA", "lat": 34.0, "lon": -118.2},
                               {"warehouse_id": "NJ", "name": "NJ", "lat": 40.7, "lon": -74.2}])
    stock = pd.DataFrame([{"warehouse_id": "LA", "status": "green"}, {"warehouse_id": "LA", "status": "red"},
                          {"warehouse_id": "LA", "status": "yellow"}, {"warehouse_id": "NJ", "status": "over"}])
    ts = pd.Timestamp("2026-11-23 10:00", tz="UTC")
    shipments = pd.DataFrame([
        {"shipment_id": "S-OK", "tracking_number": "1", "carrier": "maersk", "mode": "sea", "direction": "inbound",
         "tag": "InTransit", "eta": ts, "lat": 30.0, "lon": 170.0, "origin_lat": 21.0, "origin_lon": 105.9,
         "dest_lat": 34.0, "dest_lon": -118.2, "is_delayed": False, "is_exception": False},
        {"shipment_id": "S-LATE", "tracking_number": "2", "carrier": "cosco", "mode": "sea", "direction": "inbound",
         "tag": "InTransit", "eta": ts, "lat": 25.0, "lon": -160.0, "origin_lat": 22.5, "origin_lon": 114.3,
         "dest_lat": 40.7, "dest_lon": -74.2, "is_delayed": True, "is_exception": False},
        {"shipment_id": "S-EXC", "tracking_number": "3", "carrier": "ups", "mode": "express", "direction": "outbound",
         "tag": "Exception", "eta": pd.NaT, "lat": 36.0, "lon": -100.0, "origin_lat": 34.0, "origin_lon": -118.2,
         "dest_lat": None, "dest_lon": None, "is_delayed": True, "is_exception": True},
    ])
    return {"nodes": nodes, "suppliers": suppliers, "warehouses": warehouses, "stock": stock, "shipments": shipments}


def deck_of(**kwargs):
    deck, _height = ml.build_deck(**{**frames(), **kwargs})
    return deck


def layers_of(deck) -> dict:
    return {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}


def test_screens_showing_the_same_map_share_one_deck_encoded_once(monkeypatch):
    """shared_deck: kiosks rotating onto the map together build and encode it once; other data or
    another screen size builds its own, and the JSON is what the deck encodes to."""
    built, real = [], ml.build_deck
    monkeypatch.setattr(ml, "build_deck", lambda **inputs: built.append(inputs) or real(**inputs))
    ml._shared_deck.clear()
    first, height = ml.shared_deck(**frames(), kiosk=True)
    copies = {name: frame.copy() for name, frame in frames().items()}  # another screen's copies
    again, again_height = ml.shared_deck(**copies, kiosk=True)
    assert again is first and again_height == height and len(built) == 1
    late = frames()
    late["shipments"].loc[0, "is_delayed"] = True
    assert ml.shared_deck(**late, kiosk=True)[0] is not first
    assert ml.shared_deck(**frames(), kiosk=True, width=1872)[0] is not first
    assert len(built) == 3
    spec = first.to_json()
    assert first.to_json() is spec  # encoded once
    fresh = real(**frames(), kiosk=True)[0]
    assert spec == json.dumps(fresh, sort_keys=True, default=ml.json_tools.default_serialize)


def test_deck_has_the_outline_under_every_data_layer_and_no_tiles_by_default():
    spec = json.loads(deck_of().to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids[0] == ml.OUTLINE  # drawn first = underneath
    assert set(ids) == {ml.OUTLINE, ml.NODES, ml.SUPPLIERS, ml.WAREHOUSES, ml.ARCS, ml.SHIPMENTS}
    assert spec["layers"][0]["@@type"] == "GeoJsonLayer"
    assert len(spec["layers"][0]["data"]["features"]) == 177
    # No tiles: works offline. A *missing* mapStyle is not enough: Streamlit then fetches a Carto
    # basemap to match its theme. No provider and pydeck's own default style means no basemap.
    assert not spec.get("mapProvider")
    assert spec.get("mapStyle") and "://" not in json.dumps(spec["mapStyle"])
    assert "carto" not in json.dumps(spec).lower() and "mapbox" not in json.dumps(spec).lower()
    online = json.loads(deck_of(online_tiles=True).to_json())
    assert "carto" in json.dumps(online).lower()


def test_arcs_run_the_short_way_and_skip_shipments_without_destination():
    arcs = layers_of(deck_of())[ml.ARCS]
    assert [a["shipment_id"] for a in arcs["data"]] == ["S-OK", "S-LATE"]
    late = arcs["data"][1]
    assert (late["origin_lon"], late["origin_lat"], late["dest_lon"], late["dest_lat"]) == (114.3, 22.5, -74.2, 40.7)
    # Shenzhen → New Jersey crosses the Pacific eastwards (171.5°), not Asia and the Atlantic (188.5°)
    assert late["from"][0] % 360 == pytest.approx(114.3) and late["to"][0] % 360 == pytest.approx(285.8)
    assert late["to"][0] - late["from"][0] == pytest.approx(171.5)
    assert all(abs(a["to"][0] - a["from"][0]) <= 180 for a in arcs["data"])
    # straight in the projection, so an arc stays inside the box of its ends (which the view fits);
    # a Mercator great circle from Asia to the US climbs off the top of a wall map
    assert arcs["greatCircle"] is False
    assert late["width"] > arcs["data"][0]["width"]


def test_world_shows_once_across_the_chart_width():
    for width in (1200, 1872, 3744):
        deck, height = ml.build_deck(**frames(), width=width, max_height=2000)
        view = json.loads(deck.to_json())["initialViewState"]
        world_px = 512 * 2 ** view["zoom"]
        assert abs(world_px - width) < 2, (width, world_px)       # one world wide, not tiled
        assert view["minZoom"] == view["zoom"]                    # zooming out cannot tile it
        assert width / 3 <= height <= 2000


def test_view_keeps_every_mark_and_arc_end_on_screen():
    deck, height = ml.build_deck(**frames(), width=1872, max_height=800)
    view = json.loads(deck.to_json())["initialViewState"]
    px_per_y = 1872 / (2 * math.pi)
    centre = mv._mercator_y(view["latitude"])
    top, bottom = mv._lat_of(centre + height / 2 / px_per_y), mv._lat_of(centre - height / 2 / px_per_y)
    lats = mv.latitudes(*frames().values())
    assert bottom < min(lats) and max(lats) < top, (bottom, top, lats)
    # and across: every arc lies within the one world the view spans, none leaves by a side edge
    left, right = view["longitude"] - 180, view["longitude"] + 180
    for arc in layers_of(deck)[ml.ARCS]["data"]:
        assert left <= arc["from"][0] <= right and left <= arc["to"][0] <= right, (view["longitude"], arc)


def test_centre_counts_the_ocean_an_arc_crosses():
    # marks in the US, Europe and China only: the widest empty stretch is the Pacific, but the
    # China → US arcs cross it, so the view centres on the Pacific side, not on Europe
    f = frames()
    f["nodes"] = pd.concat([f["nodes"], pd.DataFrame([{"node_id": "DEHAM", "name": "Hamburg", "kind": "port",
                                                        "lat": 53.5, "lon": 10.0, "status": "normal"}])])
    marks_only = mv.centre_longitude(f["nodes"], f["warehouses"], f["suppliers"])
    with_arcs = mv.centre_longitude(f["nodes"], f["warehouses"], f["suppliers"], mv.arc_longitudes(f["shipments"]))
    assert -60 < marks_only < 60, marks_only
    assert with_arcs > 120 or with_arcs < -90, with_arcs


def test_delayed_and_exception_shipments_are_highlighted():
    dots = {d["shipment_id"]: d for d in layers_of(deck_of())[ml.SHIPMENTS]["data"]}
    assert dots["S-OK"]["status"] == "on_track" and not dots["S-OK"]["highlight"]
    assert dots["S-LATE"]["status"] == "delayed" and dots["S-LATE"]["color"] == ml.SHIPMENT_COLOURS["delayed"]
    # an exception outranks a late ETA
    assert dots["S-EXC"]["status"] == "exception" and dots["S-EXC"]["color"] == ml.RED
    assert dots["S-LATE"]["radius"] > dots["S-OK"]["radius"] and dots["S-EXC"]["highlight"]


def test_warehouses_take_their_worst_sku_status_and_nodes_their_congestion():
    layers = layers_of(deck_of())
    wh = {d["warehouse_id"]: d for d in layers[ml.WAREHOUSES]["data"]}
    assert wh["LA"]["worst_status"] == "red" and wh["LA"]["color"] == ml.RED
    assert wh["LA"]["detail"] == "below limit or out · 1 SKUs red · 1 yellow"
    assert wh["NJ"]["worst_status"] == "over"
    nodes = {d["node_id"]: d for d in layers[ml.NODES]["data"]}
    assert nodes["CNSZX"]["color"] == ml.AMBER and nodes["USLAX"]["color"] == ml.NODE_COLOURS["normal"]


def test_kiosk_draws_bigger_marks():
    normal = layers_of(deck_of())[ml.SHIPMENTS]["data"][0]["radius"]
    kiosk = layers_of(deck_of(kiosk=True))[ml.SHIPMENTS]["data"][0]["radius"]
    assert kiosk > normal


def test_view_centres_an_asia_to_americas_network_on_the_pacific():
    f = frames()
    lon = mv.centre_longitude(f["suppliers"], f["warehouses"])
    assert lon > 150 or lon < -150, lon
    assert mv.centre_longitude(pd.DataFrame(columns=["lon"])) == 0.0


def test_empty_frames_still_give_a_map_with_the_outline():
    empty = pd.DataFrame()
    deck, height = ml.build_deck(nodes=empty, suppliers=empty, warehouses=empty, stock=empty, shipments=empty)
    assert height > 0
    layers = layers_of(deck)
    assert layers[ml.OUTLINE]["data"]["features"]
    assert all(layers[k]["data"] == [] for k in (ml.NODES, ml.SUPPLIERS, ml.WAREHOUSES, ml.ARCS, ml.SHIPMENTS))


@pytest.mark.parametrize("event, expected", [
    ({"selection": {"indices": {"shipments": [1]}, "objects": {"shipments": [{"shipment_id": "S-9"}]}}}, "S-9"),
    ({"selection": {"indices": {"shipment-arcs": [0]}, "objects": {"shipment-arcs": [{"shipment_id": "S-2"}]}}}, "S-2"),
    ({"selection": {"indices": {"warehouses": [0]}, "objects": {"warehouses": [{"warehouse_id": "LA"}]}}}, None),
    ({"selection": {"indices": {}, "objects": {}}}, None),
    (None, None),
    ("garbage", None),
])
def test_selected_shipment_comes_from_a_shipment_dot_or_arc(event, expected):
    assert ml.selected_shipment_id(event) == expected


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipment_tooltips_read_in_the_viewers_language(lang):
    """A hover says 'inbound · sea · in transit · past ETA' in words of the viewer's language, never
    the carrier's codes (InTransit) or Tower's own (on_track)."""
    spec = json.loads(deck_of(lang=lang).to_json())
    details = {d["shipment_id"]: d["detail"] for layer in spec["layers"] if layer["id"] == ml.SHIPMENTS
               for d in layer["data"]}
    expected = " · ".join((fmt.direction("inbound", lang), fmt.mode("sea", lang), fmt.tag("InTransit", lang),
                           i18n.t("map.status_delayed", lang)))
    assert details["S-LATE"] == expected
    assert not any(code in text for text in details.values() for code in ("InTransit", "on_track", "_"))
    if lang == "zh":
        assert "运输中" in details["S-LATE"]
