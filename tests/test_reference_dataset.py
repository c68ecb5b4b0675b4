"""The reference dataset (bench/reference.py) is a coherent Tower database: unique keys, every child
row's parent present, derived tables equal to a rebuild, counts growing with the scale, and the same
database for the same seed and moment."""
from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

import queries
from bench import peer
from bench.bench_scale import _same, tower_side
from bench.reference import Plan, reference_db
from connectors import derived
from connectors.testing import duplicate_keys
from tower import kpis
from tower.db import Database

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ORPHANS = {  # child rows whose parent must exist
    "order_lines": "select count(*) from order_lines l anti join orders o using (order_id)",
    "outbound shipments": "select count(*) from shipments s anti join orders o using (order_id) where s.direction = 'outbound'",
    "inbound shipments": "select count(*) from shipments s anti join purchase_orders p using (po_id) where s.direction = 'inbound'",
    "checkpoints": "select count(*) from tracking_events e anti join shipments s using (shipment_id)",
    "line SKUs": "select count(*) from order_lines l anti join skus k using (sku)",
    "order warehouses": "select count(*) from orders o anti join warehouses w using (warehouse_id)",
    "order shops": "select count(*) from orders o anti join merchants m using (merchant_id)",
    "stock pairs": "select count(*) from stock_observations s anti join stock_policies p using (sku, warehouse_id)",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return reference_db(tmp_path_factory.mktemp("ref"), scale=0.03, template_days=2, at=AT)


def test_the_copies_are_coherent(small):
    db = Database(small.path)
    try:
        assert not duplicate_keys(db)
        for what, sql in ORPHANS.items():
            assert db.df(sql).iloc[0, 0] == 0, f"{what} without a parent"
        # copies really are new entities: more SKUs, shops and warehouses than the template's
        assert small.counts["skus"] > 16 and small.counts["merchants"] > 3
        # the derived tables were rebuilt from the copied rows, not left empty
        before = {t: db.df(f"select * from {t} order by all") for t in ("stock_latest", "rollup_order_hours")}
        with db.cursor() as cur:
            derived.rebuild(cur)
        for table, rows in before.items():
            assert len(rows) and rows.equals(db.df(f"select * from {table} order by all")), table
        params = {"start": AT.replace(hour=0), "end": AT, "now": AT, "merchant": None, "channel": None, "market": None}
        on_time = kpis.frame(db, "on_time_rate", params)["value"].iloc[0]
        assert 70 <= on_time <= 100
        # the app's connectors go on syncing into it: the next run gets a new run id
        with db.cursor() as cur:
            runs = cur.execute("select count(*), max(run_id) from sync_runs").fetchone()
            run_id = cur.execute(queries.load("connectors/run_start"), {"source": "aftership", "started_at": AT}).fetchone()[0]
        assert runs[0] > 0 and run_id > runs[1]
    finally:
        db.close()


def test_the_plan_grows_with_the_scale():
    small, full = Plan.at_scale(0.01, 100_000, 13_000), Plan.at_scale(1.0, 100_000, 13_000)
    assert (small.copies, small.sku_copies) == (1, 1) and (full.copies, full.sku_copies) == (77, 125)
    assert full.copies * 13_000 >= 1_000_000 and full.sku_copies * 16 == 2000 and full.wh_copies * 4 == 20
    with pytest.raises(ValueError):
        reference_db("/nonexistent", scale=0)


def test_same_seed_and_moment_same_database(small, tmp_path):
    again = reference_db(tmp_path / "again", scale=0.03, template_days=2, at=AT)
    digest = "select count(*), sum(hash(order_id, created_at, merchant_id, warehouse_id)) from orders"
    a, b = (duckdb.connect(str(d.path), read_only=True) for d in (small, again))
    try:
        assert a.execute(digest).fetchone() == b.execute(digest).fetchone()
    finally:
        a.close(), b.close()


def test_the_pandas_peer_computes_the_same_numbers_as_tower(small):
    """The scale bench's ratio is only honest if both sides compute the same KPIs (bench/peer.py)."""
    params = peer.window(AT)
    theirs = peer.compute(peer.load(small.path), params)
    db = Database(small.path)
    try:
        ours = tower_side(db, params)
    finally:
        db.close()
    assert ours["on_time_rate by carrier"] and _same(ours, theirs), (ours, theirs)
