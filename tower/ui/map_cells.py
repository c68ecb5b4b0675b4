"""A map that stays light with hundreds of thousands of parcels in transit.

Beyond `MAX_POINTS` parcels the map would ship every parcel to the browser as a point and an arc
(at the reference scale that took minutes per render). Instead: the parcels that need a person —
exceptions and delayed, worst first — stay individual (up to half the budget), and the rest merge
into grid cells, one point per cell at its parcels' mean position labelled with their count, the
grid coarsened until the cells fit the budget. Merged parcels draw no arcs of their own; the lanes
view (one arc per warehouse → city) shows where they go."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tower.ui import i18n

MAX_POINTS = 2000          # points sent to the browser at most
FIRST_CELL_DEG = 0.5       # the finest grid tried, in degrees


def lighten(shipments: pd.DataFrame, lang: str = "en", max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, int]:
    """(what to draw, how many parcels were merged into cells); unchanged below `max_points`."""
    if shipments.empty or len(shipments) <= max_points:
        return shipments, 0
    problem = shipments["is_exception"].fillna(False).astype(bool) | shipments["is_delayed"].fillna(False).astype(bool)
    keep = (shipments[problem]
            .sort_values(["is_exception", "hours_late"], ascending=False, na_position="last")
            .head(max_points // 2))
    rest = shipments.drop(keep.index)
    placed = rest[rest[["lat", "lon"]].notna().all(axis=1)]
    cells = _cells(placed, max_points - len(keep), lang)
    return pd.concat([keep, cells], ignore_index=True), len(placed)


def _cells(parcels: pd.DataFrame, budget: int, lang: str) -> pd.DataFrame:
    if parcels.empty or budget <= 0:
        return parcels.head(0)
    size = FIRST_CELL_DEG
    while True:
        keys = [np.floor(parcels["lat"] / size), np.floor(parcels["lon"] / size)]
        if parcels.groupby(keys).ngroups <= budget:
            break
        size *= 2
    grouped = parcels.groupby(keys)
    cells = grouped.agg(lat=("lat", "mean"), lon=("lon", "mean"), parcels=("shipment_id", "size"),
                        direction=("direction", "first"), mode=("mode", "first"), tag=("tag", "first"))
    cells = cells.reset_index(drop=True)
    cells["shipment_id"] = [f"cell:{i}" for i in range(len(cells))]
    cells["carrier"] = None
    cells["tracking_number"] = [i18n.t("map.cell_label", lang, n=int(n)) for n in cells["parcels"]]
    cells["is_exception"] = False
    cells["is_delayed"] = False
    return cells
