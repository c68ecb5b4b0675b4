"""Stock page (AppTest): the sku × warehouse grid equals a direct computation from the raw rows, the
history chart carries the watermark lines, and empty / failing states never raise."""
import base64
import gc
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from connectors.base import Table
from connectors.writes import upsert
from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, sample_rows, tower_env  # noqa: F401
from tests.ui_fixtures import static_tables
from tower import runtime
from tower.ui import caps, kiosk, revalidate


@pytest.fixture
def stock_db(tmp_path):
    """The sample world plus the cup in LA dropping to 10 (below its limit of 25: red)."""
    now = datetime.now(UTC)
    rows = sample_rows(now)
    rows["stock_observations"].append({"sku": "GL-CUP-02", "warehouse_id": "US-WEST-LA",
                                       "observed_at": now.replace(second=0, microsecond=0) - timedelta(minutes=3),
                                       "available": 10})
    return build_db(tmp_path / "stock.duckdb", rows), rows


def values(array) -> list:
    """A plotly JSON array as a list (plotly ships numeric arrays base64-encoded)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def expected_grid(rows) -> pd.DataFrame:
    """Latest available per sku × warehouse and its status, straight from the literal rows."""
    obs = pd.DataFrame(rows["stock_observations"]).sort_values("observed_at")
    latest = obs.groupby(["sku", "warehouse_id"]).tail(1)
    pol = pd.DataFrame(rows["stock_policies"])
    orders = pd.DataFrame(rows["orders"]).merge(pd.DataFrame(rows["order_lines"]), on="order_id")
    week = orders[orders["created_at"] > pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=7)]
    sold = week.groupby(["sku", "warehouse_id"])["quantity"].sum().rename("units_7d").reset_index()
    cover = {"core": 45, "potential": 30, "long_tail": 15}
    sku_class = {s["sku"]: s["sku_class"] for s in rows["skus"]}
    grid = latest.merge(pol, on=["sku", "warehouse_id"], how="left").merge(sold, on=["sku", "warehouse_id"],
                                                                            how="left")

    def status(r):
        if r.available <= 0 or r.available < r.limit_qty:
            return "red"
        if r.available < r.warning_qty:
            return "yellow"
        days_of_supply = r.available / (r.units_7d / 7) if r.units_7d > 0 else None
        # more than twice the class's planned cover: over-stocked
        return "over" if days_of_supply and days_of_supply > 2 * cover[sku_class[r.sku]] else "green"

    grid["status"] = grid.apply(status, axis=1)
    return grid.set_index(["sku", "warehouse_id"])[["available", "status"]]


def test_grid_matches_the_raw_rows(tower_env, stock_db):
    path, rows = stock_db
    tower_env(path)
    at = open_app("pages/stock.py", window="7d")
    assert not at.exception
    expected = expected_grid(rows)

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Below limit (red)"] == str((expected["status"] == "red").sum()) == "1"
    assert metrics["Below warning (yellow)"] == str((expected["status"] == "yellow").sum()) == "1"
    # inbound to the pairs on the grid: PO-1's 2,000 bowls to LA (PO-2's cups go to NJ, which
    # holds no cups, so that pair is not on the grid)
    assert metrics["Units inbound"] == "2,000"

    pivot = at.dataframe[0].value
    for (sku, wh), row in expected.iterrows():
        assert pivot.loc[sku, wh] == row["available"]

    detail = at.dataframe[1].value.set_index(["sku", "warehouse_id"])
    assert len(detail) == len(expected)
    for key, row in expected.iterrows():
        assert detail.loc[key, "available"] == row["available"]
        assert detail.loc[key, "status"] == row["status"]
    assert detail.loc[("GL-CUP-02", "US-WEST-LA"), "status_label"] == "below limit"
    # the worst pair comes first, and the grid's rows are the SKUs in the same order
    assert detail.index[0] == ("GL-CUP-02", "US-WEST-LA")
    assert list(pivot.index) == list(dict.fromkeys(detail.index.get_level_values("sku")))
    # the bowl in LA sold 3 × 16 units in the last 3 h: 4 h rate 12/h → 30 / 12 = 2.5 h to stockout
    assert detail.loc[("GL-BOWL-01", "US-WEST-LA"), "hours_to_stockout"] == pytest.approx(2.5)


def test_beyond_the_caps_the_most_urgent_pairs_are_listed_and_the_rest_counted(tower_env, stock_db, monkeypatch):
    """A catalogue too large to style (40,000 pairs at the reference scale raised in pandas' Styler)
    lists the worst pairs first and says how many it left out; the headline counts stay whole."""
    path, rows = stock_db
    tower_env(path)
    expected = expected_grid(rows)
    monkeypatch.setattr(caps, "STOCK_DETAIL_ROWS", 2)
    monkeypatch.setattr(caps, "STYLED_CELLS", 1)  # one SKU on the grid
    at = open_app("pages/stock.py", window="7d")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Below limit (red)"] == "1" and metrics["Below warning (yellow)"] == "1"
    detail = at.dataframe[1].value
    assert detail["status"].tolist() == ["red", "yellow"]  # the two most urgent, worst first
    assert len(at.dataframe[0].value) == 1 and at.dataframe[0].value.index[0] == detail["sku"].iloc[0]
    captions = " ".join(c.value for c in at.caption)
    assert f"Listing the 2 most urgent of {len(expected)} SKU × warehouse pairs" in captions
    assert f"of {expected.index.get_level_values('sku').nunique()}" in captions
    assert len(at.selectbox(key="stock_pair").options) == 2


def test_a_wall_screen_shows_the_most_urgent_rows_it_can_read(tower_env, stock_db, monkeypatch):
    """A kiosk cannot scroll: grid and detail hold the worst SKUs / pairs that fit, say how many of
    all, and the headline counts stay whole."""
    path, rows = stock_db
    tower_env(path)
    expected = expected_grid(rows)
    monkeypatch.setattr(caps, "KIOSK_GRID_SKUS", 1)
    monkeypatch.setattr(caps, "KIOSK_DETAIL_ROWS", 2)
    at = open_app("pages/stock.py", window="7d", kiosk=1)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Below limit (red)"] == "1" and metrics["Below warning (yellow)"] == "1"
    grid, detail = static_tables(at)
    assert detail.column("Status") == ["below limit", "below warning"]
    assert [row[0] for row in grid.rows] == ["GL-CUP-02"]  # the SKU of the worst pair
    captions = " ".join(c.value for c in at.caption)
    assert f"The 2 most urgent of {len(expected)} SKU × warehouse pairs." in captions
    assert f"The 1 SKUs with the most urgent pairs, of {expected.index.get_level_values('sku').nunique()}." \
        in captions
    assert "Filter by" not in captions  # a wall has no sidebar to filter with


def test_a_wall_screen_colours_each_cell_by_its_status(tower_env, stock_db):
    """On a wall the grid and the detail are static tables (no interactive grid to invert, no
    Styler): every cell shows the latest available units and is coloured by the pair's status, as
    computed from the raw rows; the detail colours its status cell."""
    path, rows = stock_db
    tower_env(path)
    expected = expected_grid(rows)
    at = open_app("pages/stock.py", window="7d", kiosk=1)
    assert not at.exception and len(at.dataframe) == 0
    grid, detail = static_tables(at)
    assert grid.header[0] == "SKU"
    shown = 0
    for row, classes in zip(grid.rows, grid.classes):
        for wh, text, cls in zip(grid.header[1:], row[1:], classes[1:]):
            if (row[0], wh) in expected.index:
                want = expected.loc[(row[0], wh)]
                assert text == f"{want['available']:,.0f}" and cls.split() == ["num", f"rag-{want['status']}"]
                shown += 1
            else:
                assert text == "—" and cls == "num"  # a pair the catalogue does not hold
    assert shown == len(expected)
    pairs = list(zip(detail.column("SKU"), detail.column("Warehouse")))
    assert detail.column_classes("Status") == [f"rag-{expected.loc[p, 'status']}" for p in pairs]
    assert set(detail.column_classes("Available")) == {"num"}


def test_history_chart_shows_observations_and_the_three_watermarks(tower_env, stock_db):
    path, rows = stock_db
    tower_env(path)
    at = open_app("pages/stock.py", window="7d")
    at.selectbox(key="stock_pair").set_value(("GL-BOWL-01", "US-WEST-LA")).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert values(fig["data"][0]["y"]) == [o["available"] for o in rows["stock_observations"]
                                   if (o["sku"], o["warehouse_id"]) == ("GL-BOWL-01", "US-WEST-LA")]
    policy = next(p for p in rows["stock_policies"] if (p["sku"], p["warehouse_id"]) == ("GL-BOWL-01", "US-WEST-LA"))
    lines = sorted(shape["y0"] for shape in fig["layout"]["shapes"])
    assert lines == sorted([policy["safety_qty"], policy["warning_qty"], policy["limit_qty"]])


def test_chinese_labels(tower_env, stock_db):
    path, _ = stock_db
    tower_env(path)
    at = open_app("pages/stock.py", window="7d", lang="zh")
    assert not at.exception
    assert at.title[0].value == "库存与水位线"
    assert at.dataframe[1].value.set_index(["sku", "warehouse_id"]).loc[("GL-CUP-02", "US-WEST-LA"),
                                                                         "status_label"] == "低于下限"


def test_empty_database_shows_an_empty_state(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app("pages/stock.py", window="7d")
    assert not at.exception
    assert any("No stock observations yet" in i.value for i in at.info)


def test_failing_source_still_renders(tower_env, failing_db):
    tower_env(failing_db.path)
    at = open_app("pages/stock.py", window="7d")
    assert not at.exception
    assert len(at.dataframe) == 2


def test_grid_on_the_synced_sandbox_world(tower_env, sandbox_db, tmp_path):
    import duckdb

    path = sandbox_db.copy_to(tmp_path)
    with duckdb.connect(str(path), read_only=True) as con:
        obs = con.execute("select * from stock_observations").df()
        pol = con.execute("select * from stock_policies").df()
    latest = obs.sort_values("observed_at").groupby(["sku", "warehouse_id"]).tail(1)
    grid = latest.merge(pol, on=["sku", "warehouse_id"], how="left").set_index(["sku", "warehouse_id"])
    red = (grid["available"] <= 0) | (grid["available"] < grid["limit_qty"])
    yellow = ~red & (grid["available"] < grid["warning_qty"])
    tower_env(path)
    at = open_app("pages/stock.py", window="7d")
    assert not at.exception
    detail = at.dataframe[1].value.set_index(["sku", "warehouse_id"])
    assert len(detail) == len(grid)
    assert (detail["available"] == grid["available"].reindex(detail.index)).all()
    assert set(detail.index[detail["status"] == "red"]) == set(grid.index[red])
    assert set(detail.index[detail["status"] == "yellow"]) == set(grid.index[yellow])
    # the rest splits into green / over by the 7-day sales pace
    assert set(detail.loc[~detail["status"].isin(["red", "yellow"]), "status"]) <= {"green", "over"}


def stock_page_namespaces() -> list[dict]:
    """The module namespaces of Stock page runs still alive (each holds every frame the run read)."""
    gc.collect()
    return [o for o in gc.get_objects()
            if isinstance(o, dict) and str(o.get("__file__", "")).endswith("pages/stock.py")]


def test_a_session_that_moved_on_from_the_stock_page_keeps_none_of_it(tower_env, stock_db):
    """A wall screen rotating through Stock kept that page's whole namespace (its 40,000-row grid at
    the reference scale) for as long as the session lived: Streamlit keeps a keyed widget's
    format_func, and a lambda written in the page held the page (tower/ui/choices.py)."""
    path, _ = stock_db
    tower_env(path)
    at = open_app("pages/stock.py")
    assert not at.exception and at.selectbox(key="stock_pair").options  # the keyed widget was drawn
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert stock_page_namespaces() == []


# as Shopify's connector writes it
STOCK_TABLE = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)


def test_a_kiosk_rotating_onto_the_page_shows_the_last_grid_a_viewer_the_new_one(tower_env, stock_db):
    """A kiosk's own move to the Stock page is a wall screen's refresh: after a sync it shows the
    grid last computed at once, and the background computes the new one (ten kiosks rotating onto
    the page used to compute the 40,000-pair grid in the foreground at the reference scale, queued
    on each other); a viewer opening the page gets the new counts."""
    path, _ = stock_db
    tower_env(path)
    revalidate.shared.clear()
    at = open_app("pages/stock.py", window="7d", kiosk=1)
    assert not at.exception
    red = lambda: next(m.value for m in at.metric if m.label == "Below limit (red)")  # noqa: E731
    assert red() == "1"
    with runtime.get().db.cursor() as cur:  # a sync's commit: the bowl in LA runs out
        cur.begin()
        upsert(cur, STOCK_TABLE, [{"sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA",
                                   "observed_at": datetime.now(UTC) - timedelta(seconds=5), "available": 0}])
        cur.commit()
    at.session_state[kiosk.ROTATED_KEY] = True  # the kiosk's own move onto this page
    at.run()
    assert not at.exception and red() == "1"  # at once: the last grid
    assert revalidate.shared.wait_idle()
    at.run()  # a viewer's own run (the rotation mark is spent)
    assert red() == "2"
