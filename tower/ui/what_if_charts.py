"""The What-if page's pictures, as pure functions of plain DataFrames (tower.ui.what_if turns the
twin's Comparison and DecisionTable into those frames): the stock fan per response, the decision
heatmap, and the map of what the scenario touches. Tested without a browser through their JSON."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from tower.ui import charts, map_layers
from tower.ui.map_view import centre_longitude, latitudes, unwrap, view_for

FAN_OPACITY = 0.18            # the p10–p90 band: light enough that three responses stay readable
AFFECTED = [230, 57, 70, 240]  # red: a supplier, port or route the scenario disrupts
ROUTE = [80, 200, 255, 160]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def fan_chart(fan: pd.DataFrame, labels: dict[str, str], *, winner: str | None, t, height: int,
              limit: float | None = None) -> go.Figure:
    """Stock over the horizon for one sku × warehouse: per response a p10–p90 band and its p50 line
    (the winner's line thicker). `fan` has response, at (time), p10, p50, p90."""
    fig = go.Figure()
    for i, (name, part) in enumerate(fan.groupby("response", sort=False)):
        colour = charts.PALETTE[i % len(charts.PALETTE)]
        label = labels.get(name, name)
        fig.add_trace(go.Scatter(x=part["at"], y=part["p90"], mode="lines", line=dict(width=0),
                                 showlegend=False, hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(x=part["at"], y=part["p10"], mode="lines", line=dict(width=0),
                                 fill="tonexty", fillcolor=_rgba(colour, FAN_OPACITY),
                                 name=t("what_if.band", response=label), legendgroup=name, showlegend=False,
                                 hovertemplate=t("what_if.hover_band") + "<extra>" + label + "</extra>"))
        fig.add_trace(go.Scatter(x=part["at"], y=part["p50"], mode="lines", name=label, legendgroup=name,
                                 line=dict(color=colour, width=4 if name == winner else 2),
                                 hovertemplate=t("what_if.hover_p50") + "<extra>" + label + "</extra>"))
    if limit is not None and limit == limit:
        fig.add_hline(y=float(limit), line=dict(color=charts.RAG["red"], dash="dot", width=1.5))
    fig.update_layout(height=height, yaxis_title=t("what_if.axis_units"), xaxis_title=None,
                      hovermode="x unified")
    fig.update_yaxes(rangemode="tozero")
    return fig


def decision_heatmap(table: pd.DataFrame, labels: dict[str, str], *, t, height: int) -> go.Figure:
    """Which response wins in each region of the trigger conditions: hours to stockout across,
    demand ratio up. `table` has hours_to_stockout, demand_ratio, winner (one row per cell)."""
    names = list(dict.fromkeys(table["winner"]))
    code = {name: i for i, name in enumerate(names)}
    grid = table.pivot_table(index="demand_ratio", columns="hours_to_stockout", values="winner",
                             aggfunc="first").sort_index()
    z = grid.map(lambda w: code.get(w)).to_numpy(dtype=float)
    text = grid.map(lambda w: labels.get(w, w) if isinstance(w, str) else "").to_numpy()
    n = max(len(names), 1)
    scale = []
    for i, _ in enumerate(names):  # one flat colour band per response
        colour = charts.PALETTE[i % len(charts.PALETTE)]
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{h:g}" for h in grid.columns], y=[f"{r:g}" for r in grid.index], text=text,
        texttemplate="%{text}", colorscale=scale or [[0, "#8c96a3"], [1, "#8c96a3"]], zmin=-0.5 * (n > 0),
        zmax=n - 0.5, showscale=False, xgap=2, ygap=2,
        hovertemplate=t("what_if.hover_cell") + "<extra></extra>"))
    fig.update_layout(height=height, xaxis_title=t("what_if.axis_hours_to_stockout"),
                      yaxis_title=t("what_if.axis_demand_ratio"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _route_records(routes: pd.DataFrame, centre: float, scale: float) -> list[dict]:
    rows = []
    for r in routes.itertuples(index=False):
        start = [unwrap(float(r.origin_lon), centre), float(r.origin_lat)]
        end = [unwrap(float(r.dest_lon), start[0]), float(r.dest_lat)]
        rows.append({"from": start, "to": end, "label": str(r.label), "detail": str(r.detail),
                     "color": AFFECTED if r.affected else ROUTE, "width": (4 if r.affected else 1.5) * scale})
    return rows


def ring_layer(points: pd.DataFrame, scale: float) -> pdk.Layer:
    """Red rings around the places the scenario disrupts (`points`: lat, lon, label, detail)."""
    rows = [{"position": [float(r.lon), float(r.lat)], "label": str(r.label), "detail": str(r.detail)}
            for r in points.itertuples(index=False)] if not points.empty else []
    return pdk.Layer("ScatterplotLayer", id="twin-affected", data=rows, get_position="position",
                     get_radius=1, radius_units="pixels", radius_min_pixels=16 * scale, filled=False,
                     stroked=True, get_line_color=AFFECTED, line_width_min_pixels=3 * scale, pickable=True)


def affected_deck(*, suppliers: pd.DataFrame, nodes: pd.DataFrame, warehouses: pd.DataFrame,
                  stock: pd.DataFrame, routes: pd.DataFrame, affected: pd.DataFrame, kiosk: bool, width: int,
                  max_height: int, scale: float, lang: str) -> tuple[pdk.Deck, int]:
    """The scenario on the map: red rings round the disrupted suppliers and ports (`affected`: lat,
    lon, label, detail), the warehouses by stock health, and the supply routes (disrupted ones red;
    `routes` has origin_lat/lon, dest_lat/lon, label, detail, affected)."""
    marks = (1.25 if kiosk else 1.0) * scale
    route_ends = pd.concat([routes.rename(columns={"origin_lon": "lon"})[["lon"]],
                            routes.rename(columns={"dest_lon": "lon"})[["lon"]]]) if not routes.empty else None
    centre = centre_longitude(nodes, suppliers, warehouses, route_ends)
    arcs = pdk.Layer("ArcLayer", id="twin-routes", data=_route_records(routes, centre, marks),
                     get_source_position="from", get_target_position="to", get_source_color="color",
                     get_target_color="color", get_width="width", width_units="pixels",
                     great_circle=False, pickable=True)
    layers = [map_layers.outline_layer(kiosk), arcs, map_layers.node_layer(nodes, marks, lang),
              map_layers.supplier_layer(suppliers, marks, lang),
              map_layers.warehouse_layer(warehouses, map_layers.worst_stock_status(stock), marks, lang),
              ring_layer(affected, marks)]
    view, height = view_for(width, latitudes(nodes, suppliers, warehouses, routes), centre, max_height)
    deck = pdk.Deck(layers=layers, views=[pdk.View(type="MapView", controller=True, repeat=True)],
                    initial_view_state=view, map_provider=None, height=height,
                    tooltip={"html": "<b>{label}</b><br/>{detail}",
                             "style": {"fontSize": f"{round((18 if kiosk else 13) * scale)}px"}})
    return deck, height
