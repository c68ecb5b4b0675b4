"""The map stays light at scale (issue 15 item 3): beyond a few thousand parcels in transit, the
browser gets grid cells whose counts add up to the parcels, plus every problem parcel it can show."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tower.ui import map_cells


def parcels(n: int, problems: int = 0, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "shipment_id": [f"S{i}" for i in range(n)], "lat": rng.uniform(-40, 60, n), "lon": rng.uniform(-170, 170, n),
        "direction": "outbound", "mode": "express", "tag": "InTransit", "carrier": "ups",
        "tracking_number": [f"T{i}" for i in range(n)], "hours_late": np.where(np.arange(n) < problems, 5.0, np.nan),
        "is_exception": np.arange(n) < problems // 2, "is_delayed": np.arange(n) < problems,
    })


def test_a_small_network_still_shows_every_parcel():
    df = parcels(500)
    drawn, merged = map_cells.lighten(df)
    assert merged == 0 and drawn["shipment_id"].tolist() == df["shipment_id"].tolist()


def test_a_big_network_sends_at_most_the_budget_and_counts_every_parcel():
    df = parcels(200_000, problems=300)
    drawn, merged = map_cells.lighten(df, "en", max_points=2000)
    assert len(drawn) <= 2000
    cells = drawn[drawn["shipment_id"].str.startswith("cell:")]
    individual = drawn[~drawn["shipment_id"].str.startswith("cell:")]
    assert set(individual["shipment_id"]) == {f"S{i}" for i in range(300)}  # every problem parcel, one by one
    assert cells["parcels"].sum() == merged == 200_000 - 300                 # cells add up to the rest
    assert cells["tracking_number"].str.contains("parcels").all()


def test_problem_parcels_beyond_half_the_budget_keep_the_worst():
    df = parcels(10_000, problems=3_000)
    drawn, merged = map_cells.lighten(df, "zh", max_points=1000)
    individual = drawn[~drawn["shipment_id"].str.startswith("cell:")]
    assert len(individual) == 500 and individual["is_exception"].all()      # exceptions first
    assert len(drawn) <= 1000 and merged == 10_000 - 500
    assert drawn[drawn["shipment_id"].str.startswith("cell:")]["tracking_number"].str.contains("包裹").all()
