"""Fixtures for UI tests (AppTest and browser): a temp config pointing the app at a given DuckDB
file, and small databases built from literal rows through the real schema (migrations applied).

Use from a test module:

    from tests.ui_fixtures import tower_env, populated_db, empty_db, failing_db, open_app  # noqa: F401

    def test_my_page(tower_env, populated_db):
        tower_env(populated_db.path)                      # TOWER_CONFIG → temp tower.toml
        at = open_app("pages/stock.py", window="7d")     # AppTest of app.py, switched to the page
        assert not at.exception

`populated_db.rows` holds the literal rows and `populated_db.now` the instant they are relative to,
so tests can compute expected values from the same literals. Times are relative to the real clock
(the app under test runs a SystemClock with the sandbox disabled)."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from connectors import derived

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SampleDB:
    path: Path
    now: datetime                  # the instant the rows were built around (UTC)
    rows: dict[str, list[dict]]    # table → literal rows inserted

    def count(self, table: str, **where) -> int:
        return sum(all(r.get(k) == v for k, v in where.items()) for r in self.rows.get(table, []))


def reset_app_caches() -> None:
    """Close the databases of runtimes started in this test and forget cached runtimes and query
    results, so each test's app opens its own database (Streamlit caches are process-wide and
    AppTests share them)."""
    import streamlit as st

    while _LIVE_RUNTIMES:
        rt = _LIVE_RUNTIMES.pop()
        try:
            rt.stop()
        except Exception:  # noqa: BLE001 - already closed
            pass
    st.cache_resource.clear()
    st.cache_data.clear()


_LIVE_RUNTIMES: list = []  # runtimes started under tower_env, closed at teardown


def write_config(dir_: Path, db_path: Path, extra: str = "") -> Path:
    """A tower.toml with the sandbox disabled and no sources, pointing at `db_path`."""
    path = Path(dir_) / "tower_test.toml"
    path.write_text(textwrap.dedent(f"""
        [database]
        path = "{Path(db_path).as_posix()}"
        snapshot = "{(Path(dir_) / 'snapshot' / 'tower.duckdb').as_posix()}"
        snapshot_interval_s = 3600

        [sandbox]
        enabled = false
    """) + textwrap.dedent(extra))
    return path


def _navigation_pages_manager():
    from streamlit.runtime.pages_manager import PagesManager

    class NavigationPagesManager(PagesManager):
        """AppTest resets PagesManager.uses_pages_directory before every run, and because this repo
        has a `pages/` folder it then runs later pages as Streamlit-1.x "pages directory" scripts,
        skipping app.py (the frame). A real server keeps the flag False once st.navigation has
        run. This subclass restores that, so AppTest reruns and switch_page go through app.py
        exactly as the browser does."""

        def __init__(self, *args, **kwargs):
            PagesManager.uses_pages_directory = False
            super().__init__(*args, **kwargs)

    return NavigationPagesManager


NavigationPagesManager = _navigation_pages_manager()


@pytest.fixture
def tower_env(tmp_path, monkeypatch):
    """Factory: `tower_env(db_path, extra_toml="")` writes a temp config for `db_path`, points
    TOWER_CONFIG at it and resets the app caches. Returns the config path. Cleans up after."""
    import streamlit.testing.v1.app_test as app_test_mod

    import tower.runtime as runtime_mod

    real_start = runtime_mod.start

    def tracking_start(*a, **kw):  # remember runtimes so teardown can close their databases
        rt = real_start(*a, **kw)
        _LIVE_RUNTIMES.append(rt)
        return rt

    monkeypatch.setattr(runtime_mod, "start", tracking_start)
    monkeypatch.setattr(app_test_mod, "PagesManager", NavigationPagesManager)

    def make(db_path, extra_toml: str = "") -> Path:
        cfg = write_config(tmp_path, Path(db_path), extra_toml)
        monkeypatch.setenv("TOWER_CONFIG", str(cfg))
        reset_app_caches()
        return cfg

    yield make
    reset_app_caches()


def open_app(page: str | None = None, *, timeout: float = 30, **query) -> "AppTest":
    """Run app.py in an AppTest with `query` as URL params, then switch to `page` if given."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    if page and not at.exception:
        at.switch_page(page)
        at.run()
    return at


@dataclass
class StaticTable:
    """A kiosk.table drawn on a wall screen: its header, its rows as text, which rows are red, and
    each body cell's classes (a row's <th> index cell has none)."""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    red: list[bool] = field(default_factory=list)
    classes: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return [row[self.header.index(name)] for row in self.rows]

    def column_classes(self, name: str) -> list[str]:
        return [row[self.header.index(name)] for row in self.classes]


class _TableParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[StaticTable] = []
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "tower-table") in attrs:
            self.tables.append(StaticTable())
        elif tag == "tr" and self.tables and self._in_body:
            self.tables[-1].rows.append([])
            self.tables[-1].classes.append([])
            self.tables[-1].red.append(("class", "tower-red") in attrs)
        elif tag in ("td", "th") and self.tables:
            self._cell = []
            if self._in_body:
                self.tables[-1].classes[-1].append(dict(attrs).get("class") or "")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            text, table = "".join(self._cell), self.tables[-1]
            (table.rows[-1] if self._in_body else table.header).append(text)
            self._cell = None
        elif tag == "thead":
            self._in_body = True
        elif tag == "table":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def static_tables_of(html: str) -> list[StaticTable]:
    """The static tables (tower.ui.kiosk.html_table) in `html`."""
    parser = _TableParser()
    parser.feed(html)
    return parser.tables


def static_tables(at) -> list[StaticTable]:
    """Every static HTML table (tower.ui.kiosk.table in kiosk mode) an AppTest run drew."""
    return static_tables_of("".join(m.value for m in at.markdown if "tower-table" in m.value))


def build_db(path: Path, rows: dict[str, list[dict]]) -> Path:
    """Create a database at `path` through the real migrations and insert `rows` by column name."""
    from connectors import derived
    from tower.db import Database

    db = Database(path)
    try:
        with db.cursor() as cur:
            for table, records in rows.items():
                if not records:
                    continue
                frame = pd.DataFrame.from_records(records)
                cur.register("staged", frame)
                cols = ", ".join(f'"{c}"' for c in frame.columns)
                cur.execute(f'insert into "{table}" ({cols}) select {cols} from staged')
                cur.unregister("staged")
            derived.rebuild(cur)  # rows written straight into the tables: derived tables recomputed
    finally:
        db.close()
    return path


def sample_rows(now: datetime) -> dict[str, list[dict]]:
    """A small Green Living world around `now`: a member-day promotion running since 3 h ago with
    sales above forecast, low stock on the core bowl, parcels in transit / delivered / in exception,
    and three sources that synced 30 s ago. Deterministic for a given `now`."""
    now = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    h = lambda n: now + timedelta(hours=n)  # noqa: E731
    # forecasts are per whole hour, so the event starts on the hour: 3 full hours ago
    ev_start = now.replace(minute=0) - timedelta(hours=3)
    rows: dict[str, list[dict]] = {
        "merchants": [
            {"merchant_id": "green-living", "name": "Green Living", "kind": "own_store", "updated_at": h(-100)},
            {"merchant_id": "nordic-nest", "name": "Nordic Nest", "kind": "s2b2c_merchant", "updated_at": h(-100)},
        ],
        "skus": [
            {"sku": "GL-BOWL-01", "name": "Bamboo bowl", "sku_class": "core", "unit_cost": 1.85, "unit_price": 12.0, "inventory_item_id": 101, "updated_at": h(-100)},
            {"sku": "GL-CUP-02", "name": "Bamboo cup", "sku_class": "potential", "unit_cost": 1.2, "unit_price": 8.0, "inventory_item_id": 102, "updated_at": h(-100)},
            {"sku": "GL-STRAW-03", "name": "Bamboo straws", "sku_class": "long_tail", "unit_cost": 0.4, "unit_price": 4.0, "inventory_item_id": 103, "updated_at": h(-100)},
        ],
        "warehouses": [
            {"warehouse_id": "US-WEST-LA", "location_id": 1, "name": "US West (Los Angeles)", "kind": "overseas", "market": "US", "country": "US", "city": "Los Angeles", "lat": 34.05, "lon": -118.24, "updated_at": h(-100)},
            {"warehouse_id": "US-EAST-NJ", "location_id": 2, "name": "US East (New Jersey)", "kind": "overseas", "market": "US", "country": "US", "city": "Newark", "lat": 40.73, "lon": -74.17, "updated_at": h(-100)},
            {"warehouse_id": "EU-DE-HAM", "location_id": 3, "name": "EU (Hamburg)", "kind": "3pl", "market": "DE", "country": "DE", "city": "Hamburg", "lat": 53.55, "lon": 9.99, "updated_at": h(-100)},
        ],
        "suppliers": [
            {"supplier_id": "VN-BAMBOO-01", "name": "Hanoi Bamboo Co.", "tier": "primary", "country": "VN", "lat": 21.03, "lon": 105.85, "lead_time_days": 20, "capacity_per_day": 800, "updated_at": h(-100)},
            {"supplier_id": "ZJ-BAMBOO-02", "name": "Zhejiang Bamboo", "tier": "backup", "country": "CN", "lat": 30.27, "lon": 120.15, "lead_time_days": 12, "capacity_per_day": 400, "updated_at": h(-100)},
            {"supplier_id": "PRINT3D-LA", "name": "LA Print Lab", "tier": "emergency", "country": "US", "lat": 34.05, "lon": -118.24, "lead_time_days": 3, "capacity_per_day": 60, "updated_at": h(-100)},
        ],
        "nodes": [
            {"node_id": "CNSZX", "name": "Shenzhen (Yantian)", "kind": "port", "country": "CN", "lat": 22.57, "lon": 114.27, "status": "congested", "updated_at": h(-2)},
            {"node_id": "USLAX", "name": "Los Angeles", "kind": "port", "country": "US", "lat": 33.74, "lon": -118.26, "status": "normal", "updated_at": h(-2)},
        ],
        "events": [
            {"event_id": "member-day", "name": "Member Day", "starts_at": ev_start, "ends_at": ev_start + timedelta(hours=8), "kind": "promotion", "source": "planning", "updated_at": h(-100)},
            {"event_id": "spring-sale", "name": "Spring Sale", "starts_at": h(-240), "ends_at": h(-228), "kind": "promotion", "source": "planning", "updated_at": h(-300)},
        ],
        "stock_policies": [
            {"sku": s, "warehouse_id": w, "safety_qty": 100, "warning_qty": 60, "limit_qty": 25, "updated_at": h(-100)}
            for s in ("GL-BOWL-01", "GL-CUP-02", "GL-STRAW-03") for w in ("US-WEST-LA", "US-EAST-NJ", "EU-DE-HAM")
        ],
    }
    # forecast: hourly over the event, US and DE
    base = {"GL-BOWL-01": 10.0, "GL-CUP-02": 6.0, "GL-STRAW-03": 3.0}
    rows["forecasts"] = [
        {"sku": s, "market": m, "period_start": ev_start + timedelta(hours=i), "units": u * (1 if m == "US" else 0.5), "updated_at": h(-100)}
        for s, u in base.items() for m in ("US", "DE") for i in range(8)
    ]
    # orders: each event hour so far, bowl sells 16/h in the US (160% of forecast), cup 6/h, straws 2/h
    orders, lines = [], []
    n = 0
    for i in range(3):
        hour = ev_start + timedelta(hours=i)
        for sku, qty, market, merchant, channel in (
            ("GL-BOWL-01", 16, "US", "green-living", "web"),
            ("GL-CUP-02", 6, "US", "nordic-nest", "tiktok"),
            ("GL-STRAW-03", 2, "DE", "green-living", "web"),
        ):
            n += 1
            oid = f"ORD-{n:04d}"
            orders.append({"order_id": oid, "order_number": f"#{1000 + n}", "merchant_id": merchant, "channel": channel,
                           "market": market, "warehouse_id": "US-WEST-LA" if market == "US" else "EU-DE-HAM",
                           "created_at": hour + timedelta(minutes=10), "promised_delivery_at": hour + timedelta(days=3),
                           "fulfilled_at": hour + timedelta(minutes=40), "cancelled_at": None,
                           "total_price": qty * 12.0, "shipping_cost": 4.5, "currency": "USD", "updated_at": hour + timedelta(minutes=40)})
            lines.append({"order_id": oid, "line_id": "1", "sku": sku, "quantity": qty, "price": 12.0})
    # a delivered order from two days ago (on time) for delivery KPIs
    orders.append({"order_id": "ORD-OLD-1", "order_number": "#900", "merchant_id": "green-living", "channel": "web", "market": "US",
                   "warehouse_id": "US-WEST-LA", "created_at": h(-50), "promised_delivery_at": h(-10), "fulfilled_at": h(-49),
                   "cancelled_at": None, "total_price": 24.0, "shipping_cost": 4.5, "currency": "USD", "updated_at": h(-20)})
    lines.append({"order_id": "ORD-OLD-1", "line_id": "1", "sku": "GL-BOWL-01", "quantity": 2, "price": 12.0})
    rows["orders"], rows["order_lines"] = orders, lines

    # stock: the bowl in LA is nearly gone (30 left, selling 16/h → < 2 h to stockout)
    avail = {("GL-BOWL-01", "US-WEST-LA"): (120, 30), ("GL-CUP-02", "US-WEST-LA"): (300, 282),
             ("GL-STRAW-03", "EU-DE-HAM"): (80, 74), ("GL-BOWL-01", "US-EAST-NJ"): (400, 400)}
    rows["stock_observations"] = [
        obs for (s, w), (before, after) in avail.items()
        for obs in ({"sku": s, "warehouse_id": w, "observed_at": h(-4), "available": before},
                    {"sku": s, "warehouse_id": w, "observed_at": h(-0.1), "available": after})
    ]
    rows["purchase_orders"] = [
        {"po_id": "PO-1", "supplier_id": "VN-BAMBOO-01", "sku": "GL-BOWL-01", "warehouse_id": "US-WEST-LA", "quantity_ordered": 2000,
         "unit_cost": 1.85, "ordered_at": h(-240), "promised_ship_date": h(24), "status": "in_production", "updated_at": h(-6)},
        {"po_id": "PO-2", "supplier_id": "ZJ-BAMBOO-02", "sku": "GL-CUP-02", "warehouse_id": "US-EAST-NJ", "quantity_ordered": 800,
         "unit_cost": 1.2, "ordered_at": h(-200), "promised_ship_date": h(-20), "status": "shipped", "updated_at": h(-20)},
    ]
    rows["po_progress"] = [
        {"po_id": "PO-1", "observed_at": h(-6), "quantity_produced": 1200, "quantity_qc_passed": 1100, "quantity_shipped": 0, "status": "in_production", "source": "supplier_portal"},
        {"po_id": "PO-2", "observed_at": h(-20), "quantity_produced": 800, "quantity_qc_passed": 800, "quantity_shipped": 800, "status": "shipped", "source": "supplier_portal"},
    ]
    ship = []
    for i, (tag, mode, direction, order_id, wh, dest) in enumerate((
        ("InTransit", "express", "outbound", "ORD-0001", "US-WEST-LA", "US"),
        ("InTransit", "express", "outbound", "ORD-0002", "US-WEST-LA", "US"),
        ("OutForDelivery", "express", "outbound", "ORD-0004", "US-WEST-LA", "US"),
        ("Delivered", "express", "outbound", "ORD-OLD-1", "US-WEST-LA", "US"),
        ("Exception", "express", "outbound", "ORD-0003", "EU-DE-HAM", "DE"),
        ("InTransit", "sea", "inbound", None, "US-EAST-NJ", "US"),
    )):
        ship.append({"shipment_id": f"SH-{i + 1}", "tracking_number": f"1Z{i + 1:06d}", "carrier": "ups" if mode == "express" else "maersk",
                     "mode": mode, "direction": direction, "order_id": order_id, "po_id": "PO-2" if direction == "inbound" else None,
                     "warehouse_id": wh, "origin_country": "CN" if direction == "inbound" else "US", "destination_country": dest,
                     "destination_city": None, "tag": tag, "subtag": f"{tag}_001", "eta": h(20), "promised_delivery_at": h(48),
                     "shipped_at": h(-2) if order_id != "ORD-OLD-1" else h(-48),
                     "delivered_at": h(-12) if tag == "Delivered" else None, "last_checkpoint_at": h(-1),
                     "last_lat": 34.0, "last_lon": -118.0, "created_at": h(-2), "updated_at": h(-1)})
    rows["shipments"] = ship
    rows["nps_responses"] = [
        {"response_id": f"N{i}", "order_id": "ORD-OLD-1", "merchant_id": "green-living", "market": "US", "score": s,
         "comment": None, "created_at": h(-1), "updated_at": h(-1)} for i, s in enumerate((10, 9, 7, 3))
    ]
    rows["returns"] = [
        {"return_id": "RMA-1", "sku": "GL-BOWL-01", "order_id": "ORD-OLD-1", "quantity": 1, "reason": "damaged",
         "status": "approved", "created_at": h(-1), "refunded_at": None, "updated_at": h(-1)},
    ]
    rows["sync_runs"] = [
        {"run_id": i + 1, "source": src, "started_at": now - timedelta(seconds=31 + 60 * back), "finished_at": now - timedelta(seconds=30 + 60 * back),
         "status": "ok", "rows_fetched": 12 + back, "rows_written": 10 + back, "rows_rejected": 0,
         "newest_record_at": now - timedelta(seconds=60 + 60 * back), "error": None}
        for i, (src, back) in enumerate((("aftership", 1), ("shopify", 1), ("supplier_portal", 1),
                                          ("aftership", 0), ("shopify", 0), ("supplier_portal", 0)))
    ]
    return rows


def failing_rows(now: datetime) -> dict[str, list[dict]]:
    """sample_rows plus a failed latest run of `shopify` (401 from the shop)."""
    rows = sample_rows(now)
    rows["sync_runs"].append({
        "run_id": 99, "source": "shopify", "started_at": now - timedelta(seconds=5), "finished_at": now - timedelta(seconds=4),
        "status": "failed", "rows_fetched": 0, "rows_written": 0, "rows_rejected": 0, "newest_record_at": None,
        "error": "HTTP 401 from green-living.myshopify.com: invalid access token",
    })
    return rows


def _build(tmp_path: Path, name: str, rows_fn) -> SampleDB:
    now = datetime.now(timezone.utc)
    rows = rows_fn(now) if rows_fn else {}
    path = build_db(tmp_path / f"{name}.duckdb", rows)
    return SampleDB(path, now, rows)


@pytest.fixture
def populated_db(tmp_path) -> SampleDB:
    return _build(tmp_path, "populated", sample_rows)


@pytest.fixture
def empty_db(tmp_path) -> SampleDB:
    return _build(tmp_path, "empty", None)


@pytest.fixture
def failing_db(tmp_path) -> SampleDB:
    return _build(tmp_path, "failing", failing_rows)
