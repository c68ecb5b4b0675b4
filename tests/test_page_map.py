"""Map page (AppTest): the deck's layers, highlighted late shipments, click → checkpoint timeline,
and the empty / failing-source / broken-table states."""
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, sample_rows, static_tables, tower_env  # noqa: F401
from tower.ui import map_layers as ml

SHANGHAI, MID_PACIFIC, NEWARK = (31.23, 121.47), (35.0, -150.0), (40.73, -74.17)


def map_rows(now):
    """The shared sample world, plus: one parcel past its ETA, and the inbound sea shipment positioned
    only by its checkpoints (Shanghai → mid-Pacific; the newest checkpoint has no coordinate)."""
    rows = sample_rows(now)
    base = now.replace(second=0, microsecond=0)  # sample_rows' own anchor
    h = lambda n: base + timedelta(hours=n)
    by_id = {s["shipment_id"]: s for s in rows["shipments"]}
    by_id["SH-2"]["eta"] = h(-3)
    by_id["SH-6"].update(last_lat=None, last_lon=None)
    rows["tracking_events"] = [
        {"shipment_id": "SH-6", "checkpoint_time": h(-30), "tag": "InTransit", "subtag": "InTransit_007",
         "message": "Departed Shanghai port", "location": "Shanghai", "city": "Shanghai", "country": "CN",
         "lat": SHANGHAI[0], "lon": SHANGHAI[1], "raw_checkpoint_time": None, "created_at": h(-30)},
        {"shipment_id": "SH-6", "checkpoint_time": h(-5), "tag": "InTransit", "subtag": "InTransit_002",
         "message": "At sea, on schedule", "location": "Pacific Ocean", "city": None, "country": None,
         "lat": MID_PACIFIC[0], "lon": MID_PACIFIC[1], "raw_checkpoint_time": None, "created_at": h(-5)},
        {"shipment_id": "SH-6", "checkpoint_time": h(-2), "tag": "InTransit", "subtag": "InTransit_003",
         "message": "Customs pre-clearance filed", "location": "Newark", "city": "Newark", "country": "US",
         "lat": None, "lon": None, "raw_checkpoint_time": None, "created_at": h(-2)},
    ]
    return rows


@pytest.fixture
def map_db(tmp_path):
    now = datetime.now(UTC)
    rows = map_rows(now)
    return build_db(tmp_path / "map.duckdb", rows), rows


def deck_of(at) -> tuple[object, dict]:
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    return decks[0], json.loads(decks[0].proto.json)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def click(at, layer: str, obj: dict):
    """Send what the browser sends when a deck object is clicked: the chart's widget value."""
    deck, _ = deck_of(at)
    states = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = deck.proto.id
    w.string_value = json.dumps({"selection": {"indices": {layer: [0]}, "objects": {layer: [obj]}}})
    return at._run(states)


def test_map_draws_outline_and_data_layers_with_late_shipments_highlighted(tower_env, map_db):
    path, rows = map_db
    tower_env(path)
    at = open_app("pages/map.py", window="7d")
    assert not at.exception

    ships = pd.DataFrame(rows["shipments"])
    moving = ships[ships["delivered_at"].isna() & (ships["tag"] != "Delivered")]
    now = pd.Timestamp.now(tz="UTC")
    assert metric(at, "Shipments in transit") == str(len(moving))
    assert metric(at, "Past ETA") == str(int((moving["eta"] < now).sum())) == "1"
    assert metric(at, "Exceptions") == str(int((moving["tag"] == "Exception").sum())) == "1"
    assert metric(at, "Ports/hubs not normal") == "1"

    _, spec = deck_of(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert spec["layers"][0]["id"] == ml.OUTLINE and len(layers[ml.OUTLINE]["data"]["features"]) == 177
    # offline by default: no provider, and a style Streamlit will not swap for its Carto basemap
    assert not spec.get("mapProvider") and spec.get("mapStyle") and "://" not in str(spec["mapStyle"])
    dots = {d["shipment_id"]: d for d in layers[ml.SHIPMENTS]["data"]}
    assert set(dots) == set(moving["shipment_id"])
    assert dots["SH-2"]["status"] == "delayed" and dots["SH-2"]["highlight"]
    assert dots["SH-5"]["status"] == "exception" and dots["SH-5"]["color"] == ml.RED
    assert dots["SH-1"]["status"] == "on_track" and dots["SH-2"]["radius"] > dots["SH-1"]["radius"]
    # SH-6 sits at its newest checkpoint that has a coordinate
    assert (dots["SH-6"]["lat"], dots["SH-6"]["lon"]) == MID_PACIFIC

    arcs = layers[ml.ARCS]
    assert arcs["greatCircle"] is False  # straight, the short way: stays on a Mercator wall map
    arc = {a["shipment_id"]: a for a in arcs["data"]}["SH-6"]
    assert (arc["origin_lat"], arc["origin_lon"]) == SHANGHAI  # first checkpoint with a coordinate
    assert (arc["dest_lat"], arc["dest_lon"]) == NEWARK         # destination warehouse

    wh = {d["warehouse_id"]: d for d in layers[ml.WAREHOUSES]["data"]}
    # the bowl in LA: 30 available, warning 60, limit 25 → yellow is the worst there
    assert wh["US-WEST-LA"]["worst_status"] == "yellow"
    supplier_ids = {d["supplier_id"] for d in layers[ml.SUPPLIERS]["data"]}
    assert supplier_ids == {s["supplier_id"] for s in rows["suppliers"]}
    assert {d["node_id"]: d["status"] for d in layers[ml.NODES]["data"]}["CNSZX"] == "congested"


def test_clicking_a_shipment_shows_its_checkpoints(tower_env, map_db):
    path, _ = map_db
    tower_env(path)
    at = open_app("pages/map.py", window="7d")
    _, spec = deck_of(at)
    sh6 = next(d for layer in spec["layers"] if layer["id"] == ml.SHIPMENTS for d in layer["data"]
               if d["shipment_id"] == "SH-6")
    at = click(at, ml.SHIPMENTS, sh6)
    assert not at.exception
    assert at.selectbox(key="map_shipment").value == "SH-6"
    assert metric(at, "Carrier") == "maersk · sea"
    table = at.dataframe[0].value
    assert list(table["message"]) == ["Departed Shanghai port", "At sea, on schedule", "Customs pre-clearance filed"]
    assert table["hours_since_previous"].iloc[1] == pytest.approx(25.0)

    # the list picks another shipment; its (empty) timeline says so instead of failing
    at.selectbox(key="map_shipment").set_value("SH-1").run()
    assert not at.exception
    assert any("No checkpoints" in i.value for i in at.info)


def test_map_in_chinese_and_kiosk_mode(tower_env, map_db):
    path, _ = map_db
    tower_env(path)
    at = open_app("pages/map.py", window="7d", lang="zh", kiosk="1")
    assert not at.exception
    assert at.title[0].value == "地图：货物在哪里流动"
    _, spec = deck_of(at)
    dots = next(layer for layer in spec["layers"] if layer["id"] == ml.SHIPMENTS)["data"]
    assert min(d["radius"] for d in dots) > 4  # larger marks than the desk map's 4 px
    assert not at.toggle, "a wall screen has no online-tiles toggle: always the offline outline"
    assert not at.dataframe and static_tables(at), "small tables are static HTML in the wall's dark theme"


def test_empty_database_shows_an_empty_state_and_the_world(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app("pages/map.py", window="7d")
    assert not at.exception
    assert any("No locations or shipments yet" in i.value for i in at.info)
    _, spec = deck_of(at)
    assert spec["layers"][0]["id"] == ml.OUTLINE


def test_failing_source_still_renders(tower_env, failing_db):
    tower_env(failing_db.path)
    at = open_app("pages/map.py", window="7d")
    assert not at.exception
    assert metric(at, "Exceptions") == "1"


def test_missing_table_degrades_to_a_warning_not_a_traceback(tower_env, map_db):
    import duckdb

    path, _ = map_db
    with duckdb.connect(str(path)) as con:
        con.execute("drop table tracking_events")
    tower_env(path)
    at = open_app("pages/map.py", window="7d")
    assert not at.exception
    assert any("map_shipments" in w.value for w in at.warning)


def test_map_on_the_synced_sandbox_world(tower_env, sandbox_db, tmp_path):
    import duckdb

    path = sandbox_db.copy_to(tmp_path)
    with duckdb.connect(str(path), read_only=True) as con:
        ships = con.execute("select * from shipments").df()
        fixes = set(con.execute("select distinct shipment_id from tracking_events "
                                "where lat is not null and lon is not null").df()["shipment_id"])
    moving = ships[ships["delivered_at"].isna() & ~ships["tag"].isin(["Delivered", "Expired"])]
    located = moving[(moving["last_lat"].notna() & moving["last_lon"].notna())
                     | moving["shipment_id"].isin(fixes)]
    tower_env(path)
    before = pd.Timestamp.now(tz="UTC")
    at = open_app("pages/map.py", window="7d")
    after = pd.Timestamp.now(tz="UTC")
    assert not at.exception
    assert len(located) > 0
    assert metric(at, "Shipments in transit") == fmt_int(len(located))
    delayed = int(metric(at, "Past ETA").replace(",", ""))
    assert (located["eta"] < before).sum() <= delayed <= (located["eta"] < after).sum()
    _, spec = deck_of(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert len(layers[ml.SHIPMENTS]["data"]) == len(located)
    assert layers[ml.ARCS]["data"] and layers[ml.ARCS]["greatCircle"] is False
    assert len(layers[ml.WAREHOUSES]["data"]) > 0 and len(layers[ml.SUPPLIERS]["data"]) > 0


def fmt_int(n: int) -> str:
    return f"{n:,}"
