"""Derive assets/world_110m.geojson: the offline world outline drawn under the map's data layers.

Source: Natural Earth 1:110m Admin 0 - Countries (https://www.naturalearthdata.com/downloads/
110m-cultural-vectors/), as bundled in the `geopandas==0.14.4` wheel on PyPI
(`geopandas/datasets/naturalearth_lowres`, 177 countries with `name` and `iso_a3`).
License: Natural Earth data is in the public domain ("No permission is needed to use Natural Earth").

Run once (needs pip and `pip install pyshp`; neither geopandas nor GDAL is installed):
    python scripts/make_world_outline.py            # downloads the wheel with `pip download`
    python scripts/make_world_outline.py --wheel path/to/geopandas-0.14.4-py3-none-any.whl

Coordinates are rounded to 2 decimals (~1 km, far below what 1:110m resolves) and consecutive
duplicate points dropped, which keeps the file small enough to ship with every page load."""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import shapefile  # pyshp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "world_110m.geojson"
WHEEL = "geopandas==0.14.4"
PREFIX = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
DECIMALS = 2


def download_wheel(dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), WHEEL],
                   check=True)
    return next(dest.glob("geopandas-0.14.4-*.whl"))


def read_countries(wheel: Path) -> list[dict]:
    with zipfile.ZipFile(wheel) as zf:
        files = {ext: io.BytesIO(zf.read(f"{PREFIX}.{ext}")) for ext in ("shp", "shx", "dbf")}
        # the .cpg file names the .dbf text encoding (this release says ISO-8859-1, not UTF-8)
        encoding = zf.read(f"{PREFIX}.cpg").decode("ascii").strip() or "latin-1"
    reader = shapefile.Reader(shp=files["shp"], shx=files["shx"], dbf=files["dbf"], encoding=encoding)
    features = []
    for rec in reader.iterShapeRecords():
        props = rec.record.as_dict()
        features.append({
            "type": "Feature",
            "properties": {"name": props["name"], "iso_a3": props["iso_a3"]},
            "geometry": simplify(rec.shape.__geo_interface__),
        })
    return features


def round_ring(ring) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if len(out) > 1 and out[0] != out[-1]:
        out.append(out[0])
    return out


def simplify(geometry: dict) -> dict:
    kind = geometry["type"]
    if kind == "Polygon":
        rings = [round_ring(r) for r in geometry["coordinates"]]
        return {"type": kind, "coordinates": [r for r in rings if len(r) >= 4]}
    if kind == "MultiPolygon":
        polys = [[r for r in (round_ring(r) for r in poly) if len(r) >= 4]
                 for poly in geometry["coordinates"]]
        return {"type": kind, "coordinates": [p for p in polys if p]}
    raise ValueError(f"unexpected geometry type {kind}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="a local geopandas 0.14.4 wheel (else pip download)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = a.wheel or download_wheel(Path(tmp))
        features = read_countries(wheel)
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:110m Admin 0 Countries (public domain), via geopandas 0.14.4 "
                  "naturalearth_lowres; coordinates rounded to 2 decimals",
        "features": features,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    print(f"wrote {a.out} ({len(features)} countries, {a.out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
