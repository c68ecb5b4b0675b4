"""Suppliers page (AppTest): late POs, tier mix and the scorecard equal direct computations from the
raw rows; PO history chart; empty / failing states never raise."""
import base64
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, sample_rows, tower_env  # noqa: F401
from tower.ui.context import QUANTUM_WALL_S


@pytest.fixture
def supplier_db(tmp_path):
    """The sample world plus, inside the 7-day window: a late primary PO (due 36 h ago, so on a past
    UTC day at any hour of the run; nothing shipped), a backup PO on plan, a cancelled emergency PO that must count nowhere, and a PO that
    shipped on time but short (QC rejects: 95 of 100), which is shipped, not late."""
    now = datetime.now(UTC)
    rows = sample_rows(now)
    base = now.replace(second=0, microsecond=0)
    h = lambda n: base + timedelta(hours=n)
    rows["purchase_orders"] += [
        {"po_id": "PO-3", "supplier_id": "VN-BAMBOO-01", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA",
         "quantity_ordered": 1000, "unit_cost": 1.85, "ordered_at": h(-100), "promised_ship_date": h(-36),
         "status": "in_production", "updated_at": h(-30)},
        {"po_id": "PO-4", "supplier_id": "ZJ-BAMBOO-02", "sku": "GL-CUP-02", "warehouse_id": "US-EAST-NJ",
         "quantity_ordered": 500, "unit_cost": 1.2, "ordered_at": h(-50), "promised_ship_date": h(50),
         "status": "in_production", "updated_at": h(-1)},
        {"po_id": "PO-5", "supplier_id": "PRINT3D-LA", "sku": "GL-STRAW-03", "warehouse_id": "US-WEST-LA",
         "quantity_ordered": 300, "unit_cost": 0.4, "ordered_at": h(-20), "promised_ship_date": h(-2),
         "status": "cancelled", "updated_at": h(-19)},
        {"po_id": "PO-6", "supplier_id": "PRINT3D-LA", "sku": "GL-STRAW-03", "warehouse_id": "US-WEST-LA",
         "quantity_ordered": 100, "unit_cost": 0.4, "ordered_at": h(-300), "promised_ship_date": h(-200),
         "status": "shipped", "updated_at": h(-201)},
    ]
    rows["po_progress"] += [
        {"po_id": "PO-3", "observed_at": h(-60), "quantity_produced": 300, "quantity_qc_passed": 250,
         "quantity_shipped": 0, "status": "in_production", "source": "supplier_portal"},
        {"po_id": "PO-3", "observed_at": h(-30), "quantity_produced": 600, "quantity_qc_passed": 500,
         "quantity_shipped": 0, "status": "in_production", "source": "supplier_portal"},
        {"po_id": "PO-4", "observed_at": h(-1), "quantity_produced": 250, "quantity_qc_passed": 200,
         "quantity_shipped": 0, "status": "in_production", "source": "supplier_portal"},
        {"po_id": "PO-6", "observed_at": h(-201), "quantity_produced": 100, "quantity_qc_passed": 95,
         "quantity_shipped": 95, "status": "shipped", "source": "supplier_csv"},
    ]
    return build_db(tmp_path / "suppliers.duckdb", rows), rows, base


def values(array) -> list:
    """A plotly JSON array as a list (plotly ships numeric arrays base64-encoded)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def latest_progress(rows) -> pd.DataFrame:
    pos = pd.DataFrame(rows["purchase_orders"])
    prog = pd.DataFrame(rows["po_progress"]).sort_values("observed_at").groupby("po_id").tail(1)
    po = pos.merge(prog[["po_id", "quantity_shipped", "observed_at", "status"]], on="po_id", how="left",
                   suffixes=("_po", ""))
    po["status"] = po["status"].fillna(po["status_po"])  # the latest report's status wins
    return po


def test_late_pos_tier_mix_and_scorecard_match_the_rows(tower_env, supplier_db):
    path, rows, now = supplier_db
    tower_env(path)
    at = open_app("pages/suppliers.py", window="7d")
    rendered_by = datetime.now(UTC)
    assert not at.exception

    po = latest_progress(rows)
    # late: the promised ship day (UTC) is over and the supplier has not finished it
    today = pd.Timestamp(now).floor("D")
    late = po[(po["promised_ship_date"].dt.floor("D") < today)
              & ~po["status"].isin(["shipped", "closed", "cancelled"])]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Late POs"] == str(len(late)) == "1"
    late_table = at.dataframe[0].value
    assert list(late_table["po_id"]) == list(late["po_id"]) == ["PO-3"]
    assert late_table["produced_pct"].iloc[0] == pytest.approx(60.0)

    # tier mix over POs ordered in the last 7 days, cancelled excluded: VN 1000, ZJ 500
    tiers = {s["supplier_id"]: s["tier"] for s in rows["suppliers"]}
    window = po[(po["ordered_at"] >= now - timedelta(days=7)) & (po["status"] != "cancelled")]
    share = window.groupby(window["supplier_id"].map(tiers))["quantity_ordered"].sum()
    share = 100 * share / share.sum()
    plan = {"primary": 70, "backup": 20, "emergency": 10}
    off = sum(abs(share.get(t, 0) - p) for t, p in plan.items()) / 2
    assert metrics["Tier mix off 70-20-10"] == f"{off:.1f} pts" == "13.3 pts"

    card = at.dataframe[1].value.set_index("name")
    vn = card.loc["Hanoi Bamboo Co."]
    assert vn["late_pos"] == 1
    # VN's newest report: PO-1 at now − 6 h, `now` floored to the minute by the fixture, while the
    # page reads `now` rounded up to the cache quantum: near a minute's end it shows one minute more
    late_minutes = int((rendered_by + timedelta(seconds=QUANTUM_WALL_S) - now).total_seconds() // 60)
    assert vn["silent_for"] in {"6 h"} | {f"6 h {m} min" for m in range(1, late_minutes + 1)}
    zj = card.loc["Zhejiang Bamboo"]
    # PO-2 shipped (first report with units shipped) 20 h before its promise? it was promised at
    # now − 20 h and reported shipped at now − 20 h: on time; its lead time is 180 h = 7.5 days
    assert zj["pos_due"] == 1 and zj["on_time_pct"] == pytest.approx(100.0)
    assert zj["actual_lead_days"] == pytest.approx(7.5)
    la = card.loc["LA Print Lab"]
    assert la["silent_for"] == "8 d 9 h"  # its only report, 201 h ago
    assert la["late_pos"] == 0            # PO-6 shipped 95 of 100 after QC: shipped, not late


def test_the_scorecards_on_time_share_is_its_counts_divided_once(tower_env, tmp_path):
    """A supplier with 3 POs due in the window and 1 shipped by its promise: the page shows
    100 × 1 ÷ 3 as Python computes it in one division (33.333333333333336), the correctly rounded
    value every other check of the share gets; a 0–1 share times 100 gives 33.33333333333333, and
    at an exact half such a second rounding prints a different whole percent."""
    now = datetime.now(UTC)
    base = now.replace(second=0, microsecond=0)
    h = lambda n: base + timedelta(hours=n)
    rows = sample_rows(now)
    rows["suppliers"].append({"supplier_id": "KH-RATTAN-04", "name": "Phnom Penh Rattan", "tier": "backup",
                              "country": "KH", "lat": 11.56, "lon": 104.92, "lead_time_days": 15,
                              "capacity_per_day": 200, "updated_at": h(-100)})
    for i, shipped_after_promise in enumerate([-2, 5, 9]):  # hours after the promise: one on time
        po_id = f"PO-KH-{i}"
        rows["purchase_orders"].append(
            {"po_id": po_id, "supplier_id": "KH-RATTAN-04", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA",
             "quantity_ordered": 100, "unit_cost": 1.5, "ordered_at": h(-400), "promised_ship_date": h(-48),
             "status": "shipped", "updated_at": h(-30)})
        rows["po_progress"].append(
            {"po_id": po_id, "observed_at": h(-48 + shipped_after_promise), "quantity_produced": 100,
             "quantity_qc_passed": 100, "quantity_shipped": 100, "status": "shipped", "source": "supplier_portal"})
    tower_env(build_db(tmp_path / "rattan.duckdb", rows))
    at = open_app("pages/suppliers.py", window="7d")
    assert not at.exception
    kh = at.dataframe[-1].value.set_index("name").loc["Phnom Penh Rattan"]
    assert kh["pos_due"] == 3
    assert kh["on_time_pct"] == 100.0 * 1 / 3


def test_po_history_chart_follows_the_reports(tower_env, supplier_db):
    path, rows, _ = supplier_db
    tower_env(path)
    at = open_app("pages/suppliers.py", window="7d")
    at.selectbox(key="suppliers_po").set_value("PO-3").run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    history = next(c for c in charts if any(t.get("name") == "Expected by now" and t.get("mode") == "lines"
                                            for t in c["data"]))
    produced = history["data"][0]
    assert produced["name"] == "Produced"
    reports = [p for p in rows["po_progress"] if p["po_id"] == "PO-3"]
    assert values(produced["y"]) == pytest.approx([100 * p["quantity_produced"] / 1000 for p in reports])


def test_empty_database_shows_an_empty_state(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app("pages/suppliers.py", window="7d")
    assert not at.exception
    assert any("No suppliers or purchase orders yet" in i.value for i in at.info)


def test_failing_source_still_renders(tower_env, failing_db):
    tower_env(failing_db.path)
    at = open_app("pages/suppliers.py", window="7d", lang="zh")
    assert not at.exception
    assert at.title[0].value == "供应商"


def test_late_pos_on_the_synced_sandbox_world(tower_env, sandbox_db, tmp_path):
    import duckdb

    path = sandbox_db.copy_to(tmp_path)
    with duckdb.connect(str(path), read_only=True) as con:
        pos = con.execute("select * from purchase_orders").df()
        prog = con.execute("select * from po_progress").df()
        names = {r[0] for r in con.execute("select name from suppliers").fetchall()}
    latest = prog.sort_values("observed_at").groupby("po_id").tail(1)[["po_id", "status", "quantity_shipped"]]
    po = pos.merge(latest, on="po_id", how="left", suffixes=("_po", ""))
    finished = po["status"].isin(["shipped", "closed"]) | (po["quantity_shipped"] >= po["quantity_ordered"])
    tower_env(path)
    at = open_app("pages/suppliers.py", window="7d")
    assert not at.exception
    now = pd.Timestamp.now(tz="UTC")
    # late: the promised ship day (UTC) is over and the supplier has not finished it
    late = po[(po["promised_ship_date"].dt.floor("D") < now.floor("D")) & ~finished
              & (po["status_po"] != "cancelled")]
    assert {m.label: m.value for m in at.metric}["Late POs"] == f"{len(late):,}"
    card = at.dataframe[-1].value
    assert set(card["name"]) == names
