"""pydeck layers for the map page: an offline world outline under suppliers, ports/hubs, warehouses
and shipments in transit (dots at their last known position, arcs origin → destination the short
way round), in a view that shows the world once across the chart's width.

Pure functions from DataFrames to a `pydeck.Deck`, so the page stays thin and the deck's JSON can be
tested without a browser; `shared_deck` builds it once for every screen showing the same map. Layer
data is passed as plain records (ISO strings, no numpy/pandas types) so the JSON is stable and every
layer shares one tooltip template (`label`, `detail`)."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
import pydeck as pdk
import streamlit as st
from pydeck.bindings import json_tools

from connectors import geocode, sea_routes
from tower.ui import fmt, i18n
from tower.ui.map_view import arc_longitudes, centre_longitude, latitudes, unwrap, view_for

WORLD_OUTLINE = Path(__file__).resolve().parents[2] / "assets" / "world_110m.geojson"

# Layer ids: stable across reruns (Streamlit needs ids to keep a selection) and used by tests.
OUTLINE, NODES, SUPPLIERS, WAREHOUSES, ARCS, SHIPMENTS, VESSELS = (
    "world-outline", "nodes", "suppliers", "warehouses", "shipment-arcs", "shipments", "vessels")
PARCEL_ARCS, LANES = "parcel-arcs", "lanes"   # outbound: warehouse → customer city; aggregated lanes

# RGBA. Red/amber/green carry status; neutral blues/violets carry "what kind of place".
RED, AMBER, GREEN, GREY = [230, 57, 70, 235], [255, 176, 32, 235], [46, 184, 92, 220], [140, 150, 165, 200]
STOCK_COLOURS = {"red": RED, "yellow": AMBER, "green": GREEN, "over": [47, 111, 181, 230]}
NODE_COLOURS = {"normal": [90, 160, 230, 220], "congested": AMBER, "closed": RED}
SHIPMENT_COLOURS = {"exception": RED, "delayed": [255, 120, 0, 245], "on_track": [80, 200, 255, 220]}
SUPPLIER_COLOUR = [170, 120, 255, 230]
VESSEL_COLOURS = {"slipped": [255, 120, 0, 245], "steady": [0, 170, 160, 235]}
VESSEL_SLIP_H = 12  # an arrival estimate later than the first by more than this shows as slipped
# worst first: over-stock matters less than running short, more than "fine"
STATUS_RANK = {"red": 4, "yellow": 3, "over": 2, "green": 1}


class CompactDeck(pdk.Deck):
    """A Deck whose JSON (what st.pydeck_chart sends) has no indentation: pydeck indents it, which
    forces Python's pure-Python encoder — ~90 ms and 2.3 MB for the outline and 2,000 marks. The
    same content from the C encoder takes ~15 ms and less than half the bytes. Encoded once: a
    shared deck (shared_deck) is sent by every screen showing it, and nothing changes it after
    it is built."""

    def to_json(self) -> str:
        if "_encoded" not in self.__dict__:  # set after encoding, so never part of the JSON itself
            self.__dict__["_encoded"] = json.dumps(self, sort_keys=True, default=json_tools.default_serialize)
        return self.__dict__["_encoded"]


@cache
def world_outline() -> dict:
    """Natural Earth 1:110m countries (see assets/README.md); read once per process."""
    return json.loads(WORLD_OUTLINE.read_text(encoding="utf-8"))


def shipment_status(is_exception: bool, is_delayed: bool) -> str:
    """One status per shipment for colour: an exception outranks a late ETA."""
    if is_exception:
        return "exception"
    return "delayed" if is_delayed else "on_track"


def worst_stock_status(stock: pd.DataFrame) -> pd.DataFrame:
    """Per warehouse: the worst sku status (red > yellow > over > green) and how many skus are red/yellow.

    `stock` has one row per sku×warehouse with `warehouse_id` and `status`."""
    cols = ["warehouse_id", "worst_status", "skus_red", "skus_yellow"]
    if stock is None or stock.empty:
        return pd.DataFrame(columns=cols)
    s = stock.assign(rank=stock["status"].map(STATUS_RANK).fillna(0))
    out = s.groupby("warehouse_id").agg(
        rank=("rank", "max"),
        skus_red=("status", lambda x: int((x == "red").sum())),
        skus_yellow=("status", lambda x: int((x == "yellow").sum())),
    ).reset_index()
    by_rank = {v: k for k, v in STATUS_RANK.items()}
    out["worst_status"] = out["rank"].map(by_rank)
    return out[cols]


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """JSON-safe records: timestamps as ISO text, NaN/NaT as None, numpy scalars as Python ones."""
    if df is None or df.empty:
        return []
    out = df[columns].astype(object).where(df[columns].notna(), None)
    rows = []
    for row in out.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif hasattr(v, "item"):  # numpy scalar
                v = v.item()
            clean[k] = v
        rows.append(clean)
    return rows


def _has_position(df: pd.DataFrame, lat: str = "lat", lon: str = "lon") -> pd.DataFrame:
    if df is None or df.empty:
        return pd.DataFrame(columns=list(df.columns) if df is not None else [])
    return df[df[lat].notna() & df[lon].notna()]


def outline_layer(dark: bool) -> pdk.Layer:
    fill, line = ([32, 38, 48, 255], [95, 105, 120, 255]) if dark else ([226, 230, 236, 255], [150, 158, 170, 255])
    return pdk.Layer(
        "GeoJsonLayer", id=OUTLINE, data=world_outline(), stroked=True, filled=True,
        get_fill_color=fill, get_line_color=line, line_width_min_pixels=0.6, pickable=False,
    )


def _words(prefix: str, codes: pd.Series, lang: str) -> pd.Series:
    """Codes as words of the catalogue (`<prefix><code>`); a code it does not know shows as is."""
    def word(code) -> str:
        key = f"{prefix}{code}"
        text = i18n.t(key, lang)
        return str(code) if text == key else text
    return codes.map(word)


def node_layer(nodes: pd.DataFrame, scale: float, lang: str = "en") -> pdk.Layer:
    df = _has_position(nodes).copy()
    if not df.empty:
        df["color"] = df["status"].map(NODE_COLOURS).apply(lambda c: c if isinstance(c, list) else GREY)
        df["label"] = df["name"].fillna(df["node_id"])
        df["detail"] = (_words("map.node_kind_", df["kind"].fillna(""), lang) + " · "
                        + _words("map.node_status_", df["status"].fillna("unknown"), lang))
    return pdk.Layer(
        "ScatterplotLayer", id=NODES, data=_records(df, ["node_id", "lon", "lat", "color", "label", "detail", "status"]),
        get_position=["lon", "lat"], get_fill_color="color", get_radius=1, radius_units="pixels",
        radius_min_pixels=6 * scale, stroked=True, get_line_color=[255, 255, 255, 200],
        line_width_min_pixels=1, pickable=True,
    )


def supplier_layer(suppliers: pd.DataFrame, scale: float, lang: str = "en") -> pdk.Layer:
    df = _has_position(suppliers).copy()
    if not df.empty:
        df["label"] = df["name"].fillna(df["supplier_id"])
        tiers = df["tier"].map(lambda t: i18n.t(f"suppliers.tier_{t}", lang) if isinstance(t, str) else "")
        df["detail"] = tiers + " · " + df["country"].fillna("")
    return pdk.Layer(
        "ScatterplotLayer", id=SUPPLIERS, data=_records(df, ["supplier_id", "lon", "lat", "label", "detail", "tier"]),
        get_position=["lon", "lat"], get_fill_color=SUPPLIER_COLOUR, get_radius=1, radius_units="pixels",
        radius_min_pixels=8 * scale, stroked=True, get_line_color=[255, 255, 255, 220],
        line_width_min_pixels=1.5, pickable=True,
    )


def warehouse_layer(warehouses: pd.DataFrame, stock_status: pd.DataFrame, scale: float,
                    lang: str = "en") -> pdk.Layer:
    df = _has_position(warehouses).copy()
    if not df.empty:
        df = df.merge(stock_status, on="warehouse_id", how="left")
        df["color"] = df["worst_status"].map(STOCK_COLOURS).apply(lambda c: c if isinstance(c, list) else GREY)
        df["label"] = df["name"].fillna(df["warehouse_id"])
        df["detail"] = [
            f"{i18n.t(f'map.stock_{w}', lang)} · "
            + i18n.t("map.stock_counts", lang, red=int(r), yellow=int(y))
            for w, r, y in zip(df["worst_status"].fillna("none"), df["skus_red"].fillna(0), df["skus_yellow"].fillna(0))]
    cols = ["warehouse_id", "lon", "lat", "color", "label", "detail", "worst_status"]
    return pdk.Layer(
        "ScatterplotLayer", id=WAREHOUSES, data=_records(df, cols) if not df.empty else [],
        get_position=["lon", "lat"], get_fill_color="color", get_radius=1, radius_units="pixels",
        radius_min_pixels=10 * scale, stroked=True, get_line_color=[255, 255, 255, 240],
        line_width_min_pixels=2, pickable=True,
    )


def _shipment_frame(shipments: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    df = shipments.copy()
    df["status"] = [shipment_status(bool(e), bool(d)) for e, d in zip(df["is_exception"], df["is_delayed"])]
    df["color"] = df["status"].map(SHIPMENT_COLOURS)
    df["highlight"] = df["status"] != "on_track"
    df["label"] = df["carrier"].fillna("?") + " " + df["tracking_number"].fillna(df["shipment_id"])
    # the tooltip reads in the viewer's language: words, not carrier codes (each distinct
    # combination translated once: thousands of per-row catalogue lookups cost seconds)
    details: dict[tuple, str] = {}
    for combo in zip(df["direction"].fillna(""), df["mode"].fillna(""), df["tag"].fillna(""), df["status"]):
        if combo not in details:
            d, m, t, st = combo
            details[combo] = " · ".join((fmt.direction(d, lang), fmt.mode(m, lang), fmt.tag(t, lang),
                                         i18n.t(f"map.status_{st}", lang)))
    df["detail"] = [details[combo] for combo in zip(df["direction"].fillna(""), df["mode"].fillna(""),
                                                    df["tag"].fillna(""), df["status"])]
    return df


def shipment_layer(shipments: pd.DataFrame, scale: float, lang: str = "en") -> pdk.Layer:
    df = _has_position(shipments)
    cols = ["shipment_id", "lon", "lat", "color", "label", "detail", "status", "highlight"]
    data = _records(_shipment_frame(df, lang), cols) if not df.empty else []
    for row in data:  # delayed and exception shipments are drawn larger so they stand out
        row["radius"] = (8 if row["highlight"] else 4) * scale
    return pdk.Layer(
        "ScatterplotLayer", id=SHIPMENTS, data=data, get_position=["lon", "lat"], get_fill_color="color",
        get_radius="radius", radius_units="pixels", stroked=True, get_line_color=[20, 20, 20, 230],
        line_width_min_pixels=1, pickable=True, auto_highlight=True,
    )


def vessel_layer(vessels: pd.DataFrame | None, scale: float, lang: str = "en") -> pdk.Layer:
    """Containers at sea (queries/pages/map_vessels.sql), the tooltip telling how far the vessel's
    arrival estimate has slipped since first announced."""
    df = _has_position(vessels) if vessels is not None else pd.DataFrame()
    data = []
    if not df.empty:
        df = df.copy()
        slip = pd.to_numeric(df["slip_hours"], errors="coerce").fillna(0)
        df["status"] = ["slipped" if h > VESSEL_SLIP_H else "steady" for h in slip]
        df["color"] = df["status"].map(VESSEL_COLOURS)
        df["label"] = df["vessel_name"].fillna("?") + " · " + df["equipment_reference"]
        df["detail"] = [
            i18n.t("ocean.vessel_detail", lang, pol=pol or "?", pod=pod or "?", eta=fmt.ts(eta, lang))
            + (i18n.t("ocean.vessel_slip", lang, hours=fmt.hours(h, lang), first=fmt.ts(first, lang))
               if h > VESSEL_SLIP_H else i18n.t("ocean.vessel_steady", lang))
            for pol, pod, eta, first, h in zip(df["pol"], df["pod"], df["eta"], df["first_eta"], slip)]
        data = _records(df, ["equipment_reference", "lon", "lat", "color", "label", "detail", "status"])
        for row in data:
            row["radius"] = (9 if row["status"] == "slipped" else 6) * scale
    return pdk.Layer(
        "ScatterplotLayer", id=VESSELS, data=data, get_position=["lon", "lat"], get_fill_color="color",
        get_radius="radius", radius_units="pixels", stroked=True, get_line_color=[255, 255, 255, 230],
        line_width_min_pixels=1.5, pickable=True,
    )


def arc_layer(shipments: pd.DataFrame, scale: float, centre: float = 0.0, lang: str = "en") -> pdk.Layer:
    """Origin → destination arcs, each drawn the short way round (China → US crosses the Pacific).

    Straight in the map's projection, not great circles: on a Mercator wall map a great circle from
    Asia to the US climbs to 70°N and off the top of the screen, while a straight arc stays inside
    the box of its two ends, which the view is fitted to (`view_for`)."""
    df = shipments
    if df is not None and not df.empty:
        df = df[df[["origin_lat", "origin_lon", "dest_lat", "dest_lon"]].notna().all(axis=1)]
        df = df[df["direction"] != "outbound"] if "direction" in df else df  # parcels: parcel_arc_layer
    data = []
    if df is not None and not df.empty:
        cols = ["shipment_id", "origin_lon", "origin_lat", "dest_lon", "dest_lat", "color", "label", "detail",
                "status", "highlight"]
        data = _records(_shipment_frame(df, lang), cols)
        for row in data:
            row["width"] = (4 if row["highlight"] else 1.5) * scale
            row["from"] = [unwrap(row["origin_lon"], centre), row["origin_lat"]]
            row["to"] = [unwrap(row["dest_lon"], row["from"][0]), row["dest_lat"]]
    return pdk.Layer(
        "ArcLayer", id=ARCS, data=data, get_source_position="from", get_target_position="to",
        get_source_color="color", get_target_color="color", get_width="width", width_units="pixels",
        great_circle=False, pickable=True,
    )


def at_sea(vessels: pd.DataFrame) -> pd.DataFrame:
    """Vessels placed on their sea lane (connectors.sea_routes), not on a line across land."""
    return sea_routes.place_vessels(vessels)


def with_destinations(df: pd.DataFrame) -> pd.DataFrame:
    """Outbound destination cities geocoded offline (connectors.geocode): dest_lat/dest_lon filled
    where the query had none, and dest_precision (city | country | unknown)."""
    return geocode.with_destinations(df)


def _with_ends(df: pd.DataFrame) -> pd.DataFrame:
    if df is None or df.empty or not {"origin_lat", "origin_lon", "dest_lat", "dest_lon"} <= set(df):
        return pd.DataFrame()
    return df[df[["origin_lat", "origin_lon", "dest_lat", "dest_lon"]].notna().all(axis=1)]


def parcel_arc_layer(shipments: pd.DataFrame, scale: float, lang: str = "en") -> pdk.Layer | None:
    """Outbound parcels in transit: one great-circle arc each, shipping warehouse → destination city
    (geocoded offline; a city not in the gazetteer ends at its country's centre, said in the tooltip).
    None when no outbound parcel has both ends (the layer is then left out)."""
    df = _with_ends(shipments)
    df = df[df["direction"] == "outbound"] if not df.empty and "direction" in df else pd.DataFrame()
    if df.empty:
        return None
    frame = _shipment_frame(df, lang)
    approx = frame.get("dest_precision", pd.Series("city", index=frame.index)) != "city"
    places = frame["destination_city"].fillna("") if "destination_city" in frame else pd.Series("", index=frame.index)
    approximate = i18n.t("map.approximate", lang)
    frame["detail"] = [f"{d} · → {c or k or '?'}" + (f" ({approximate})" if a else "")
                       for d, c, k, a in zip(frame["detail"], places, frame.get("destination_country", places), approx)]
    cols = ["shipment_id", "origin_lon", "origin_lat", "dest_lon", "dest_lat", "color", "label", "detail",
            "status", "highlight"]
    data = _records(frame, cols)
    for row in data:
        row["width"] = (3 if row["highlight"] else 1.2) * scale
        row["from"], row["to"] = [row["origin_lon"], row["origin_lat"]], [row["dest_lon"], row["dest_lat"]]
    return pdk.Layer(
        "ArcLayer", id=PARCEL_ARCS, data=data, get_source_position="from", get_target_position="to",
        get_source_color="color", get_target_color="color", get_width="width", width_units="pixels",
        great_circle=True, pickable=True,
    )


def lane_colour(late_share) -> list[int]:
    """Green under 10 % late, amber under 25 %, red beyond; grey when no parcel had a promise."""
    if late_share is None or pd.isna(late_share):
        return GREY
    return GREEN if late_share < 0.10 else AMBER if late_share < 0.25 else RED


def lanes_layer(lanes: pd.DataFrame, scale: float, lang: str = "en") -> pdk.Layer:
    """Warehouse → destination city lanes: width by parcels, colour by late share."""
    df = _with_ends(lanes)
    data = []
    if not df.empty:
        df = df.copy()
        df["color"] = [lane_colour(v) for v in df["late_share"]]
        df["label"] = df["warehouse_name"].fillna(df["warehouse_id"]) + " → " + df["destination_city"].fillna(
            df["destination_country"].fillna("?"))
        df["detail"] = [i18n.t("map.lane_detail", lang, parcels=fmt.number(int(n), lang),
                               late=fmt.pct(v, lang) if pd.notna(v) else fmt.MISSING)
                        for n, v in zip(df["parcels"], df["late_share"])]
        top = float(df["parcels"].max()) or 1.0
        data = _records(df, ["warehouse_id", "destination_city", "destination_country", "origin_lon", "origin_lat",
                             "dest_lon", "dest_lat", "color", "label", "detail", "parcels", "late_share"])
        for row in data:
            row["width"] = (1.5 + 8 * row["parcels"] / top) * scale
            row["from"], row["to"] = [row["origin_lon"], row["origin_lat"]], [row["dest_lon"], row["dest_lat"]]
    return pdk.Layer(
        "ArcLayer", id=LANES, data=data, get_source_position="from", get_target_position="to",
        get_source_color="color", get_target_color="color", get_width="width", width_units="pixels",
        great_circle=True, pickable=True,
    )


def build_deck(*, nodes: pd.DataFrame, suppliers: pd.DataFrame, warehouses: pd.DataFrame,
               stock: pd.DataFrame, shipments: pd.DataFrame, kiosk: bool = False, dark: bool = False,
               online_tiles: bool = False, width: int = 1200, max_height: int = 560,
               scale: float = 1.0, lang: str = "en", vessels: pd.DataFrame | None = None,
               lanes: pd.DataFrame | None = None,
               stock_status: pd.DataFrame | None = None) -> tuple[pdk.Deck, int]:
    """The whole map and its height in px, for a chart `width` px wide (pass the same width to
    st.pydeck_chart: the zoom is computed for it).

    Without `online_tiles` it needs no network: the bundled outline is the base layer and no map
    style is named. (`map_style=None` is not "no tiles": Streamlit then picks a Carto basemap to
    match its theme and fetches it from basemaps.cartocdn.com. `map_provider=None` with pydeck's
    default style is what Streamlit draws with no basemap at all.)

    `stock_status` (warehouse_id, worst_status, skus_red, skus_yellow; queries/pages/map_warehouse_stock)
    replaces `stock` when given: the worst status per warehouse computed where the stock rows are."""
    marks = (1.25 if kiosk else 1.0) * scale
    lon = centre_longitude(nodes, suppliers, warehouses, shipments, arc_longitudes(shipments))
    # Drawn in this order: hundreds of parcels must not bury the few places they move between.
    # Outbound parcels: one arc each, or (given `lanes`) one arc per warehouse → city lane instead.
    parcels = lanes_layer(lanes, marks, lang) if lanes is not None else parcel_arc_layer(shipments, marks, lang)
    layers = [
        outline_layer(dark or kiosk),
        arc_layer(shipments, marks, lon, lang),
        *([parcels] if parcels is not None else []),
        shipment_layer(shipments, marks, lang),
        *([] if vessels is None else [vessel_layer(vessels, marks, lang)]),  # with a DCSA source
        node_layer(nodes, marks, lang),
        supplier_layer(suppliers, marks, lang),
        warehouse_layer(warehouses, worst_stock_status(stock) if stock_status is None else stock_status, marks, lang),
    ]
    view, height = view_for(width, latitudes(nodes, suppliers, warehouses, shipments, vessels), lon, max_height)
    if online_tiles:
        tiles = {"map_provider": "carto",
                 "map_style": pdk.map_styles.CARTO_DARK if dark or kiosk else pdk.map_styles.CARTO_LIGHT}
    else:
        tiles = {"map_provider": None}
    deck = CompactDeck(
        layers=layers,
        # repeat: a Pacific-centred view crosses the antimeridian, so the world's two halves meet
        # in the middle; the zoom (view_for) makes that one world wide, never several
        views=[pdk.View(type="MapView", controller=True, repeat=True)],
        initial_view_state=view,
        tooltip={"html": "<b>{label}</b><br/>{detail}",
                 "style": {"fontSize": f"{round((18 if kiosk else 13) * scale)}px"}},
        height=height,
        **tiles,
    )
    return deck, height


def shared_deck(**inputs) -> tuple[pdk.Deck, int]:
    """build_deck(**inputs) for a map that screens draw on each full run (a kiosk rotating onto
    it, a new viewer): built and encoded once per input values and shared by all of them. Ten
    kiosks rotating onto the map together each spent ~0.1 s of interpreter building the same deck
    (bench/README.md "Soak"), and a new viewer arriving then waited for all of them."""
    return _shared_deck(i18n.version(), **inputs)


# Streamlit hashes the frames' values into the key and holds a per-key lock while the first screen
# builds. `words`: the locale files read (an edited one gives new labels). A deck holds its layers'
# records (megabytes at 2,000 marks): room for a few variants (wall, desk, languages) of the newest data.
@st.cache_resource(max_entries=8, show_spinner=False)
def _shared_deck(words: tuple, **inputs) -> tuple[pdk.Deck, int]:
    return build_deck(**inputs)


def selected_shipment_id(event) -> str | None:
    """The shipment picked on the map (a dot or its arc), from `st.pydeck_chart(..., on_select=…)`."""
    try:
        objects = (event or {}).get("selection", {}).get("objects", {}) or {}
    except AttributeError:
        return None
    for layer in (SHIPMENTS, ARCS, PARCEL_ARCS):
        picked = objects.get(layer) or []
        if picked and isinstance(picked[0], dict) and picked[0].get("shipment_id"):
            return str(picked[0]["shipment_id"])
    return None
