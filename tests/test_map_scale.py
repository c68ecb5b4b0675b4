"""The map stays light at scale (issue 15 item 3): beyond a few thousand parcels in transit, the
browser gets grid cells whose counts add up to the parcels, plus every problem parcel it can show —
computed by the query (queries/pages/map_shipments.sql) on a real DuckDB file, so the page never
holds a row per parcel; the headline counts still cover every parcel."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.ui_fixtures import build_db, open_app, sample_rows, tower_env  # noqa: F401
from tower.db import Database
from tower.ui import map_cells
from tower.ui import map_layers as ml

NOW = datetime.now(UTC).replace(microsecond=0)


def parcels(n: int, problems: int = 0, seed: int = 3, prefix: str = "S") -> list[dict]:
    """`n` outbound parcels in transit spread over the world; the first `problems` are past their
    ETA by 1..problems hours (worst first by index), the first half of those in exception."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-40, 60, n), rng.uniform(-170, 170, n)
    rows = []
    for i in range(n):
        late = i < problems
        rows.append({
            "shipment_id": f"{prefix}{i}", "tracking_number": f"T{i}", "carrier": "ups", "mode": "express",
            "direction": "outbound", "tag": "Exception" if i < problems // 2 else "InTransit",
            "eta": NOW - timedelta(hours=problems - i) if late else NOW + timedelta(days=2),
            "last_lat": float(lat[i]), "last_lon": float(lon[i]), "created_at": NOW - timedelta(days=1),
            "destination_country": "US", "destination_city": "Chicago"})
    return rows


def drawn(db_path, max_points: int | None) -> pd.DataFrame:
    db = Database(db_path, read_only=True)
    try:
        return db.query("pages/map_shipments", {"now": NOW, "merchant": None, "channel": None, "market": None,
                                                "max_points": max_points})
    finally:
        db.close()


def cells_of(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["kind"] == "cell"]


def test_a_small_network_still_shows_every_parcel(tmp_path):
    path = build_db(tmp_path / "small.duckdb", {"shipments": parcels(500, problems=20)})
    out = drawn(path, 2000)
    assert (out["kind"] == "parcel").all() and len(out) == 500
    assert map_cells.totals(out) == map_cells.Totals(in_transit=500, delayed=20, exceptions=10, attention=20, merged=0)
    # worst first: exceptions, then delayed, most hours late first
    assert out["shipment_id"].head(3).tolist() == ["S0", "S1", "S2"]


def test_a_big_network_sends_at_most_the_budget_and_counts_every_parcel(tmp_path):
    path = build_db(tmp_path / "big.duckdb", {"shipments": parcels(20_000, problems=300)})
    out = drawn(path, 2000)
    assert len(out) <= 2000
    individual = map_cells.parcels(out)
    assert set(individual["shipment_id"]) == {f"S{i}" for i in range(300)}  # every problem parcel, one by one
    counts = map_cells.totals(out)
    assert cells_of(out)["parcels"].sum() == counts.merged == 20_000 - 300   # cells add up to the rest
    assert counts == map_cells.Totals(in_transit=20_000, delayed=300, exceptions=150, attention=300, merged=19_700)
    labelled = map_cells.labelled(out, "en")
    assert cells_of(labelled)["tracking_number"].str.contains("parcels on track here").all()
    # a cell sits at its parcels' mean position: inside the band the parcels were spread over
    assert cells_of(out)["lat"].between(-40, 60).all() and cells_of(out)["lon"].between(-170, 170).all()


def test_problem_parcels_beyond_half_the_budget_keep_the_worst(tmp_path):
    path = build_db(tmp_path / "worst.duckdb", {"shipments": parcels(10_000, problems=3_000)})
    out = drawn(path, 1000)
    individual = map_cells.parcels(out)
    assert len(individual) == 500 and individual["is_exception"].all()      # exceptions first
    assert individual["shipment_id"].head(2).tolist() == ["S0", "S1"]        # most hours late first
    counts = map_cells.totals(out)
    assert len(out) <= 1000 and counts.merged == 10_000 - 500
    # the late parcels that did not fit are counted in their cells, and the words say so
    assert cells_of(out)["late_parcels"].sum() == 3_000 - 500
    late_cells = cells_of(map_cells.labelled(out, "en")).query("late_parcels > 0")
    assert late_cells["tracking_number"].str.contains("delayed or in exception").all()
    assert "2,500 of them delayed or in exception" in map_cells.merged_note(counts, shown_late=500, lang="en")
    assert cells_of(map_cells.labelled(out, "zh"))["tracking_number"].str.contains("包裹").all()


def test_no_budget_means_no_merging(tmp_path):
    path = build_db(tmp_path / "all.duckdb", {"shipments": parcels(3000)})
    out = drawn(path, None)
    assert len(out) == 3000 and (out["kind"] == "parcel").all()


def test_warehouse_colours_from_sql_equal_the_worst_status_over_every_sku(tmp_path):
    path = build_db(tmp_path / "stock.duckdb", sample_rows(NOW))
    db = Database(path, read_only=True)
    try:
        params = {"end": NOW, "now": NOW, "market": None}
        per_sku = db.query("pages/stock_health", params)
        per_warehouse = db.query("pages/map_warehouse_stock", params)
    finally:
        db.close()
    expected = ml.worst_stock_status(per_sku).sort_values("warehouse_id").reset_index(drop=True)
    assert len(per_warehouse) > 1 and "yellow" in set(per_warehouse["worst_status"])
    pd.testing.assert_frame_equal(per_warehouse[expected.columns], expected, check_dtype=False)


# ── the page above MAX_POINTS ───────────────────────────────────────────────────────────────────
def busy_world() -> dict[str, list[dict]]:
    """The sample world plus more parcels than the map draws: some delayed, some in exception, some
    placed only by a checkpoint, some delivered, expired or not created yet (not on the map)."""
    rows = sample_rows(NOW)
    extra = parcels(map_cells.MAX_POINTS + 1500, problems=400, prefix="B")
    for i, row in enumerate(extra):
        if i % 97 == 0:
            row.update(last_lat=None, last_lon=None)  # placed by its newest checkpoint with a coordinate
        elif i % 101 == 0:
            row.update(delivered_at=NOW - timedelta(hours=1), tag="Delivered")
        elif i % 103 == 0:
            row["tag"] = "Expired"
        elif i % 107 == 0:
            row["created_at"] = NOW + timedelta(hours=1)
    rows["shipments"] += extra
    rows["tracking_events"] = [
        {"shipment_id": r["shipment_id"], "checkpoint_time": NOW - timedelta(hours=3), "tag": "InTransit",
         "subtag": "InTransit_001", "message": "Departed hub", "location": "Memphis", "city": "Memphis",
         "country": "US", "lat": 35.1, "lon": -90.0, "raw_checkpoint_time": None, "created_at": NOW}
        for i, r in enumerate(extra) if r["last_lat"] is None and i % 2 == 0]  # the other half: nowhere
    return rows


def independent_counts(rows: dict[str, list[dict]]) -> dict[str, int]:
    """In transit / past ETA / exceptions (and either) straight from the rows written, not through the query."""
    ships = pd.DataFrame(rows["shipments"])
    fixed = {e["shipment_id"] for e in rows["tracking_events"] if e["lat"] is not None}
    open_ = ships[ships["delivered_at"].isna() & ~ships["tag"].isin(["Delivered", "Expired"])
                  & (pd.to_datetime(ships["created_at"], utc=True) <= pd.Timestamp(NOW))]
    placed = open_[open_["last_lat"].notna() | open_["shipment_id"].isin(fixed)]
    delayed = pd.to_datetime(placed["eta"], utc=True) < pd.Timestamp.now(tz="UTC")
    exception = placed["tag"].isin(["Exception", "AttemptFail"])
    return {"in_transit": len(placed), "delayed": int(delayed.sum()), "exceptions": int(exception.sum()),
            "attention": int((delayed | exception).sum())}


def metric(at, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


@pytest.fixture
def busy_db(tmp_path):
    rows = busy_world()
    return build_db(tmp_path / "busy.duckdb", rows), rows


@pytest.mark.parametrize("kiosk", [False, True], ids=["desk", "wall"])
def test_the_page_counts_every_parcel_and_draws_at_most_the_budget(tower_env, busy_db, kiosk):  # noqa: F811
    path, rows = busy_db
    expected = independent_counts(rows)
    assert expected["in_transit"] > map_cells.MAX_POINTS
    tower_env(path)
    at = open_app("pages/map.py", window="7d", **({"kiosk": "1"} if kiosk else {}))
    assert not at.exception
    assert metric(at, "Shipments in transit") == expected["in_transit"]
    assert metric(at, "Past ETA") == expected["delayed"]
    assert metric(at, "Exceptions") == expected["exceptions"]

    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    dots = next(layer for layer in spec["layers"] if layer["id"] == ml.SHIPMENTS)["data"]
    assert len(dots) <= map_cells.MAX_POINTS
    cells = [d for d in dots if d["shipment_id"].startswith("cell:")]
    parcels_drawn = [d for d in dots if not d["shipment_id"].startswith("cell:")]
    assert cells and all("parcels on track here" in d["label"] for d in cells)
    # every problem parcel fits in half the budget here: each is drawn on its own, highlighted
    assert sum(d["highlight"] for d in parcels_drawn) == len(parcels_drawn)
    assert len(parcels_drawn) == expected["attention"]
    merged = expected["in_transit"] - len(parcels_drawn)
    assert any(f"{merged:,} parcels on track are drawn as grid cells" in c.value for c in at.caption)
    if not kiosk:
        # the picker lists parcels drawn one by one, never a cell
        options = at.selectbox(key="map_shipment").options
        assert len(options) == len(parcels_drawn) and not any(o.startswith("cell:") for o in options)


def test_a_busy_network_with_nothing_late_says_every_parcel_is_in_a_cell(tower_env, tmp_path):  # noqa: F811
    rows = sample_rows(NOW)
    rows["shipments"] = parcels(map_cells.MAX_POINTS + 500, prefix="OK")  # all on track
    tower_env(build_db(tmp_path / "calm.duckdb", rows))
    at = open_app("pages/map.py", window="7d")
    assert not at.exception
    assert metric(at, "Shipments in transit") == map_cells.MAX_POINTS + 500 and metric(at, "Past ETA") == 0
    assert any("All 2,500 parcels in transit are on track" in i.value for i in at.info)
    assert "map_shipment" not in {s.key for s in at.selectbox}, "no parcel of its own to pick"
