"""Where the map looks: the longitude to centre on (so a China → US network centres on the Pacific,
where its arcs run), the zoom that shows the world exactly once across the chart, and the height
that fits every mark's latitude (Web Mercator). Pure functions of the marks' coordinates."""
from __future__ import annotations

import math

import pandas as pd
import pydeck as pdk


def unwrap(lon: float, centre: float) -> float:
    """`lon` moved by whole turns into [centre - 180, centre + 180): Web Mercator is linear in
    longitude, so a point east of the antimeridian can be drawn at e.g. 242° beside 121°."""
    return round((lon - centre + 180) % 360 - 180 + centre, 4)


def arc_longitudes(shipments: pd.DataFrame, steps: int = 8) -> pd.DataFrame:
    """Longitudes along each origin → destination arc (the short way), as a `lon` column: the water
    an arc crosses is "in use", so the view is not centred with an arc running off its edge."""
    cols = ["origin_lon", "dest_lon"]
    if shipments is None or shipments.empty or not set(cols) <= set(shipments):
        return pd.DataFrame(columns=["lon"])
    ends = shipments[cols].apply(pd.to_numeric, errors="coerce").dropna()
    delta = (ends["dest_lon"] - ends["origin_lon"] + 180) % 360 - 180
    lons = [ends["origin_lon"] + delta * k / steps for k in range(steps + 1)]
    return pd.DataFrame({"lon": pd.concat(lons, ignore_index=True)})


def centre_longitude(*frames: pd.DataFrame) -> float:
    """The middle of the longitudes in use, measured around the globe opposite the widest empty gap,
    so a China → US network centres on the Pacific (where its arcs run), not on Africa."""
    series = [f["lon"] for f in frames if f is not None and not f.empty and "lon" in f]
    if not series:
        return 0.0
    lons = sorted(set(pd.to_numeric(pd.concat(series, ignore_index=True), errors="coerce").dropna() % 360))
    if not lons:
        return 0.0
    # gap after each point, eastwards, wrapping from the last point round to the first
    gaps = [((lons[(i + 1) % len(lons)] - lon) % 360 or 360, i) for i, lon in enumerate(lons)]
    widest, after = max(gaps)
    start = lons[(after + 1) % len(lons)]  # the occupied arc starts where the widest gap ends
    centre = (start + (360 - widest) / 2) % 360
    return round(centre - 360 if centre >= 180 else centre, 2)


# deck.gl draws the world 512 px wide at zoom 0 and twice as wide per zoom step.
WORLD_PX_AT_ZOOM_0 = 512
MAX_LAT = 80.0          # beyond this Mercator stretches the poles into most of the screen
FIT_MARGIN_DEG = 8.0    # room around the outermost marks, so dots at the edge are not cut


def _mercator_y(lat: float) -> float:
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _lat_of(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def latitudes(*frames: pd.DataFrame) -> list[float]:
    """Every latitude a mark or arc end sits at."""
    out: list[float] = []
    for f in frames:
        if f is None or f.empty:
            continue
        for col in ("lat", "origin_lat", "dest_lat"):
            if col in f:
                out += pd.to_numeric(f[col], errors="coerce").dropna().tolist()
    return out


def view_for(width: int, lats: list[float], centre_lon: float, max_height: int) -> tuple[pdk.ViewState, int]:
    """(view state, height px) that show the world exactly once across `width` pixels, centred on
    `centre_lon`, with every latitude in `lats` on screen.

    The zoom makes the world exactly `width` wide, so the MapView's `repeat` (needed to draw a
    Pacific-centred world across the antimeridian) fills the width once and never tiles the world
    side by side; min_zoom keeps a viewer from zooming out into repeats. The height fits the marks'
    latitude band (Mercator), kept between a third of the width and `max_height`."""
    zoom = math.log2(width / WORLD_PX_AT_ZOOM_0)
    lo, hi = (min(lats), max(lats)) if lats else (-40.0, 60.0)
    y_lo, y_hi = _mercator_y(lo - FIT_MARGIN_DEG), _mercator_y(hi + FIT_MARGIN_DEG)
    px_per_y = width / (2 * math.pi)
    height = int(min(max_height, max(width / 3, (y_hi - y_lo) * px_per_y)))
    # centre the band; when the screen is taller than the band, the extra shows around it
    centre_lat = _lat_of((y_lo + y_hi) / 2)
    view = pdk.ViewState(latitude=round(centre_lat, 3), longitude=centre_lon, zoom=round(zoom, 4),
                         min_zoom=round(zoom, 4), max_zoom=8, pitch=0, bearing=0)
    return view, height
