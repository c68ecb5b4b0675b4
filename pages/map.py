"""Map: where things are. Suppliers, ports/hubs by congestion, warehouses by stock health, shipments
in transit at their last known position with origin → destination arcs; click one for its timeline.

Works offline: the base layer is the bundled world outline; online tiles are an opt-in toggle."""
import pandas as pd
import plotly.express as px
import streamlit as st

from tower.ui import charts, fmt, kiosk, map_cells, map_layers
from tower.ui.frame import context

KIOSK_ATTENTION_ROWS = 10


def checkpoint_figure(checkpoints: pd.DataFrame, look: charts.Look):
    """One shipment's checkpoints over time (tags already in the screen's language)."""
    fig = px.line(checkpoints, x="checkpoint_time", y="tag", markers=True, hover_data=["message", "location"],
                  labels={"checkpoint_time": look.t("map.col_time"), "tag": look.t("map.col_tag"),
                          "message": look.t("map.col_message"), "location": look.t("map.col_location")})
    fig.update_layout(height=300 if look.kiosk else 240)
    return fig


ctx = context()
st.title(ctx.t("map.title"))

nodes = ctx.query("pages/map_nodes")
suppliers = ctx.query("pages/map_suppliers")
warehouses = ctx.query("pages/map_warehouses")
stock_status = ctx.query("pages/map_warehouse_stock")  # worst SKU status per warehouse, for its colour
# Beyond MAX_POINTS parcels the query merges those on track into grid cells and counts them all:
# the page holds at most MAX_POINTS rows however many parcels move, and geocodes only those.
drawn = map_cells.labelled(map_layers.with_destinations(
    ctx.query("pages/map_shipments", max_points=map_cells.MAX_POINTS)), ctx.lang)
shipments = map_cells.parcels(drawn)  # one shipment each: what the picker and the lists may show
counts = map_cells.totals(drawn)
merged = counts.merged
vessels = map_layers.at_sea(ctx.query("pages/map_vessels"))  # containers at sea (DCSA), on their lane

congested = int((nodes["status"] != "normal").sum()) if not nodes.empty else 0
cols = st.columns(4)
cols[0].metric(ctx.t("map.in_transit"), fmt.number(counts.in_transit, ctx.lang))
cols[1].metric(ctx.t("map.delayed"), fmt.number(counts.delayed, ctx.lang))
cols[2].metric(ctx.t("map.exceptions"), fmt.number(counts.exceptions, ctx.lang))
cols[3].metric(ctx.t("map.congested_nodes"), fmt.number(congested, ctx.lang))

if all(df.empty for df in (nodes, suppliers, warehouses, drawn)):
    st.info(ctx.t("map.empty"))

# A wall screen has nobody to flip the toggle: it always draws the offline outline.
online = False if ctx.kiosk else st.toggle(ctx.t("map.online_tiles"), value=False, key="map_online_tiles",
                                           help=ctx.t("map.online_tiles_help"))
# Outbound parcels one arc each, or aggregated into warehouse → city lanes (count, late share).
lanes_view = False if ctx.kiosk else st.toggle(ctx.t("map.lanes_view"), value=False, key="map_lanes_view",
                                               help=ctx.t("map.lanes_view_help"))
lanes = map_layers.with_destinations(ctx.query("pages/map_lanes")) if lanes_view else None
# The deck is drawn at a fixed width: its zoom shows the world exactly once across that width.
width = kiosk.content_width(ctx) if ctx.kiosk else 1200
deck, height = map_layers.shared_deck(
    nodes=nodes, suppliers=suppliers, warehouses=warehouses, stock=None, stock_status=stock_status, shipments=drawn,
    kiosk=ctx.kiosk, online_tiles=online, width=width, scale=ctx.scale if ctx.kiosk else 1.0, lang=ctx.lang,
    max_height=kiosk.screen_px(ctx, 0.7) if ctx.kiosk else 620, vessels=vessels, lanes=lanes)
with st.container(key="map-deck"):
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="map_deck",
                            width=width, height=height, alt=ctx.t("map.alt"))
st.caption(ctx.t("map.legend") + ("" if vessels.empty else " · " + ctx.t("ocean.vessel_legend")))
approximate = int((drawn.get("dest_precision", pd.Series(dtype=str)) == "country").sum()) if not drawn.empty else 0
if approximate:
    st.caption(ctx.t("map.approximate_note", n=fmt.number(approximate, ctx.lang)))
if merged:
    shown_late = int((shipments["is_delayed"] | shipments["is_exception"]).sum())
    st.caption(map_cells.merged_note(counts, shown_late, ctx.lang))
if lanes is not None:
    st.subheader(ctx.t("map.lanes_title"))
    if lanes.empty:
        st.info(ctx.t("map.no_lanes"))
    else:
        kiosk.table(
            lanes[["warehouse_id", "destination_city", "destination_country", "parcels", "in_transit", "late_share"]],
            ctx, hide_index=True, width="stretch",
            column_config={
                "warehouse_id": ctx.t("map.col_warehouse"), "destination_city": ctx.t("map.col_city"),
                "destination_country": ctx.t("map.col_country"), "parcels": ctx.t("map.col_parcels"),
                "in_transit": ctx.t("map.in_transit"),
                "late_share": st.column_config.NumberColumn(ctx.t("map.col_late_share"), format="percent"),
            },
        )

# ── the selected shipment: picked on the map, or from the list (keyboard / kiosk friendly) ─────
st.subheader(ctx.t("map.shipment_detail"))
if shipments.empty:  # nothing in transit, or every parcel on track and merged into cells
    st.info(ctx.t("map.all_in_cells", n=fmt.number(merged, ctx.lang)) if merged else ctx.t("map.no_shipments"))
    st.stop()

options = shipments["shipment_id"].tolist()
status_words = {s: ctx.t("map.status_" + s) for s in map_layers.SHIPMENT_COLOURS}
labels = dict(zip(options, (
    f"{r.carrier or '?'} {r.tracking_number or r.shipment_id} · "
    + status_words[map_layers.shipment_status(bool(r.is_exception), bool(r.is_delayed))]
    for r in shipments.itertuples())))
picked = map_layers.selected_shipment_id(event)
if picked in labels and picked != st.session_state.get("_map_last_pick"):
    # A new click on the map wins over the list; the list keeps working afterwards.
    st.session_state["_map_last_pick"] = picked
    st.session_state["map_shipment"] = picked
if st.session_state.get("map_shipment") not in labels:
    st.session_state.pop("map_shipment", None)
shipment_id = st.selectbox(ctx.t("map.pick_shipment"), options, format_func=labels.get, key="map_shipment")

row = shipments[shipments["shipment_id"] == shipment_id].iloc[0]
info = st.container(key="map-shipment-facts").columns(4)
info[0].metric(ctx.t("map.carrier"), f"{row['carrier'] or '—'} · {fmt.mode(row['mode'], ctx.lang)}")
info[1].metric(ctx.t("map.tag"), fmt.tag(row["tag"], ctx.lang))
info[2].metric(ctx.t("map.eta"), fmt.ts(row["eta"], ctx.lang))
info[3].metric(ctx.t("map.hours_late"), fmt.hours(row["hours_late"], ctx.lang) if row["is_delayed"] else "—")

checkpoints = ctx.query("pages/map_checkpoints", shipment_id=shipment_id)
if checkpoints.empty:
    st.info(ctx.t("map.no_checkpoints"))
else:
    checkpoints = checkpoints.assign(tag=checkpoints["tag"].map(lambda c: fmt.tag(c, ctx.lang)),
                                     subtag=checkpoints["subtag"].map(lambda c: fmt.subtag(c, ctx.lang)))
    charts.draw(checkpoint_figure, checkpoints[["checkpoint_time", "tag", "message", "location"]], ctx,
                key="map_checkpoints")
    table = checkpoints.assign(checkpoint_time=checkpoints["checkpoint_time"].map(lambda t: fmt.ts(t, ctx.lang)))
    kiosk.table(
        table[["checkpoint_time", "tag", "subtag", "message", "location", "country", "hours_since_previous"]],
        ctx, hide_index=True, width="stretch",
        column_config={
            "checkpoint_time": ctx.t("map.col_time"), "tag": ctx.t("map.col_tag"),
            "subtag": ctx.t("map.col_subtag"), "message": ctx.t("map.col_message"),
            "location": ctx.t("map.col_location"), "country": ctx.t("map.col_country"),
            "hours_since_previous": st.column_config.NumberColumn(ctx.t("map.col_gap_h"), format="%.1f"),
        },
    )

# ── everything that needs attention, worst first ────────────────────────────────────────────────
late = shipments[shipments["is_delayed"] | shipments["is_exception"]]
st.subheader(ctx.t("map.attention"))
if late.empty:
    st.success(ctx.t("map.nothing_late"))
else:
    if counts.attention > len(late) and not ctx.kiosk:  # the others were merged into the map's cells
        st.caption(ctx.t("map.attention_worst", shown=fmt.number(len(late), ctx.lang),
                         total=fmt.number(counts.attention, ctx.lang)))
    if ctx.kiosk:  # a wall shows the worst few; the full list is for a desk
        late = late.sort_values(["is_exception", "hours_late"], ascending=False).head(KIOSK_ATTENTION_ROWS)
    kiosk.table(
        late[["carrier", "tracking_number", "direction", "mode", "tag", "eta", "hours_late", "last_location"]]
        .assign(eta=late["eta"].map(lambda t: fmt.ts(t, ctx.lang)),
                tag=map_cells.words(late["tag"], fmt.tag, ctx.lang),
                mode=map_cells.words(late["mode"], fmt.mode, ctx.lang),
                direction=map_cells.words(late["direction"], fmt.direction, ctx.lang)),
        ctx, hide_index=True, width="stretch",
        column_config={
            "carrier": ctx.t("map.carrier"), "tracking_number": ctx.t("map.col_tracking"),
            "direction": ctx.t("map.col_direction"), "mode": ctx.t("map.col_mode"), "tag": ctx.t("map.tag"),
            "eta": ctx.t("map.eta"), "last_location": ctx.t("map.col_location"),
            "hours_late": st.column_config.NumberColumn(ctx.t("map.hours_late"), format="%.1f"),
        },
    )
