"""Bench: the figures the current-state tables (migration 020) serve — the stock, shipment and PO
KPIs for a 24-h window and one alert evaluation (all rules) — on given datasets, read through the
maintained tables ("after") and with every reader forced onto the history path ("before": the raw
definitions' cost, what Tower did without the tables). Also times three connector writes with the
tables' upkeep: a stock sync, an AfterShip sync and a Shopify sync. Prints a Markdown table; writes
nothing.

    python -m bench.bench_state_tables /tmp/b/1x /tmp/b/30x --stock-days 31

Each dataset folder (bench.dataset's sandbox_db / scaled_db / reference_db, or a tower.duckdb) is
copied first. `--stock-days N` gives every stock pair a 15-min series for N days (≈ 2,976 rows a
pair for 31 days) when the dataset has not got one (the sandbox world observes stock per sync)."""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

import queries
from connectors import writes
from connectors.records import Table
from tower import kpis
from tower.alerts.engine import AlertEngine
from tower.alerts.settings import load as load_alert_settings
from tower.clock import ManualClock
from tower.db import Database

KPIS = ("hours_to_stockout", "stockouts", "days_of_supply", "shipments_past_eta", "exceptions",
        "stale_trackings", "fill_rate")
STOCK = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)
SHIPMENTS = Table("shipments", ("shipment_id",), "merge")
CHECKPOINTS = Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None)
PARCELS = 200  # trackings in one AfterShip sync (a page of the list endpoint), two new checkpoints each
ORDERS = Table("orders", ("order_id",), "merge")
ORDER_LINES = Table("order_lines", ("order_id", "line_id"), "merge", None)
SHOP_ORDERS = 100  # orders in one Shopify sync (a page of the GraphQL orders query), their lines with them


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(db: Database, now, runs: int) -> dict:
    params = {"start": now - timedelta(hours=24), "end": now, "now": now}
    out = {k: median_ms(lambda k=k: kpis.frame(db, k, params), runs) for k in KPIS}
    clock = ManualClock(now)
    engine = AlertEngine(db, load_alert_settings(), clock, None)

    def evaluate():
        clock.advance(minutes=5)
        engine.evaluate(force=True)
    out["alerts"] = median_ms(evaluate, max(3, runs // 2))
    return out


def write_ms(db: Database, now) -> float:
    """One sync-sized write: a new observation for every stock pair, with the tables' upkeep."""
    pairs = db.df(queries.load("state_tables/check/stock_latest_rows"))
    rows = [{"sku": s, "warehouse_id": w, "observed_at": now, "available": 1}
            for s, w in zip(pairs.sku, pairs.warehouse_id)]
    with db.cursor() as cur:
        cur.begin()
        started = time.perf_counter()
        writes.upsert(cur, STOCK, rows)
        took = (time.perf_counter() - started) * 1000
        cur.rollback()
    return took


def _records(frame) -> list[dict]:
    """Rows as dicts, missing values as None (what a connector hands to writes.upsert)."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _rolled_back_ms(db: Database, batches: list, runs: int) -> float:
    """Median ms of writing `batches` ((table, rows) in order) in one transaction, rolled back."""
    def write():
        with db.cursor() as cur:
            cur.begin()
            for table, rows in batches:
                writes.upsert(cur, table, rows)
            cur.rollback()
    return median_ms(write, runs)


def parcel_write_ms(db: Database, now, runs: int) -> float:
    """One AfterShip sync: PARCELS shipments under way in a newer version and two new checkpoints each,
    written as the connector does (shipments, then checkpoints), with every derived table's upkeep
    (rollups, tracking_latest, tracking_superseded, shipment_latest); rolled back after each run."""
    ships = [{**row, "updated_at": now}
             for row in _records(db.df(queries.load("state_tables/bench_parcels"), {"n": PARCELS}))]
    checkpoints = [{"shipment_id": s["shipment_id"], "checkpoint_time": now - timedelta(minutes=m),
                    "created_at": now, "tag": "InTransit", "message": f"scan {m}"} for s in ships for m in (1, 2)]
    return _rolled_back_ms(db, [(SHIPMENTS, ships), (CHECKPOINTS, checkpoints)], runs)


def order_write_ms(db: Database, now, runs: int) -> float:
    """One Shopify sync: the SHOP_ORDERS newest orders in a newer version and their lines, written as
    the connector does (orders, then lines), with every derived table's upkeep (rollup_orders,
    rollup_lines, the hourly rollups); rolled back after each run."""
    orders = [{**row, "updated_at": now}
              for row in _records(db.df(queries.load("state_tables/bench_orders"), {"n": SHOP_ORDERS}))]
    lines = _records(db.df(queries.load("state_tables/bench_order_lines"),
                           {"orders": [o["order_id"] for o in orders]}))
    return _rolled_back_ms(db, [(ORDERS, orders), (ORDER_LINES, lines)], runs)


def bench(folder: Path, runs: int, stock_days: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src = folder / "tower.duckdb" if folder.is_dir() else folder
        path = Path(tmp) / "tower.duckdb"
        shutil.copy(src, path)
        db = Database(path)
        now = db.df(queries.load("state_tables/bench_now")).now[0].to_pydatetime()
        if stock_days:
            with db.cursor() as cur:
                cur.execute(queries.load("state_tables/bench_stock_series"), {"now": now, "days": stock_days})
                cur.execute(queries.load("state_tables/rebuild"))
                cur.execute(queries.load("state_tables/bench_checkpoint"))
        counts = db.df(queries.load("state_tables/bench_counts")).iloc[0].to_dict()
        after = measure(db, now, runs)
        write, parcels = write_ms(db, now), parcel_write_ms(db, now, runs)
        shop = order_write_ms(db, now, runs)
        with db.cursor() as cur:
            cur.execute(queries.load("state_tables/check/force_history"))
        before = measure(db, now, runs)
        db.close()
    return {"name": folder.name, "counts": counts, "after": after, "before": before, "write_ms": write,
            "parcels_ms": parcels, "orders_ms": shop}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--stock-days", type=int, default=0)
    args = ap.parse_args()
    results = [bench(d, args.runs, args.stock_days) for d in args.datasets]
    print(f"DuckDB {duckdb.__version__}; medians of {args.runs} runs (alerts: of {max(3, args.runs // 2)}); "
          "before = history path (raw definitions), after = current-state tables\n")
    head = "| figure | " + " | ".join(f"{r['name']} before | {r['name']} after" for r in results) + " |"
    print(head)
    print("|---|" + "---:|" * (2 * len(results)))
    for key in ("orders", "tracking_events", "stock_observations", "po_progress"):
        print(f"| {key} rows | " + " | ".join(f"{int(r['counts'][key]):,} | " for r in results) + "")
    for key in (*KPIS, "alerts"):
        label = "alert evaluation (all rules)" if key == "alerts" else f"KPI {key} (24 h)"
        print(f"| {label} | " + " | ".join(f"{r['before'][key]:.1f} ms | {r['after'][key]:.1f} ms"
                                         for r in results) + " |")
    print("| write: one observation per stock pair, with upkeep | "
          + " | ".join(f"– | {r['write_ms']:.1f} ms" for r in results) + " |")
    print(f"| write: an AfterShip sync ({PARCELS} shipments, {2 * PARCELS} checkpoints), with upkeep | "
          + " | ".join(f"– | {r['parcels_ms']:.1f} ms" for r in results) + " |")
    print(f"| write: a Shopify sync ({SHOP_ORDERS} orders and their lines), with upkeep | "
          + " | ".join(f"– | {r['orders_ms']:.1f} ms" for r in results) + " |")
    if len(results) > 1:
        a, b = results[0], results[-1]
        growth = {k: b["after"][k] / a["after"][k] for k in (*KPIS, "alerts")}
        print("\nGrowth (after) " + a["name"] + " → " + b["name"] + ": "
              + ", ".join(f"{k} {v:.1f}×" for k, v in growth.items()))


if __name__ == "__main__":
    main()
