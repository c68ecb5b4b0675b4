"""Bench: evaluate every alert rule on a generated dataset and on one 10× larger, and report the
time per evaluation and the ratio. Deterministic (seeded); appends its results to bench/README.md
under "## Alerts" (other sections of that file are left alone).

    python -m bench.bench_alerts            # scale 1 and 10, 5 timed evaluations each
    python -m bench.bench_alerts --no-write # print only"""
from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd

from connectors import derived
from tower.alerts.engine import AlertEngine
from tower.alerts.settings import load as load_settings
from tower.clock import ManualClock
from tower.db import Database

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=timezone.utc)
README = Path(__file__).resolve().parent / "README.md"


def generate(scale: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """A world with 40·scale SKUs × 4 warehouses, 7 days of hourly orders and stock, 2,000·scale
    shipments, 100·scale POs with progress, NPS, returns and sync runs."""
    rng = random.Random(seed)
    skus = [f"SKU-{i:05d}" for i in range(40 * scale)]
    whs = [("US-WEST", "US"), ("US-EAST", "US"), ("EU-DE", "DE"), ("UK", "GB")]
    hours = [NOW - timedelta(hours=h) for h in range(24 * 7)]
    t = {}
    t["skus"] = pd.DataFrame({"sku": skus, "sku_class": [rng.choice(["core", "potential", "long_tail"]) for _ in skus]})
    t["warehouses"] = pd.DataFrame({"warehouse_id": [w for w, _ in whs], "market": [m for _, m in whs]})
    t["stock_policies"] = pd.DataFrame([{"sku": s, "warehouse_id": w, "safety_qty": 80, "warning_qty": 100, "limit_qty": 30}
                                        for s in skus for w, _ in whs])
    t["stock_observations"] = pd.DataFrame([{"sku": s, "warehouse_id": w, "observed_at": h, "available": rng.randint(0, 600)}
                                            for s in skus for w, _ in whs for h in hours[::6]])
    t["forecasts"] = pd.DataFrame([{"sku": s, "market": m, "period_start": h, "units": rng.uniform(0.5, 8)}
                                   for s in skus for m in ("US", "DE", "GB") for h in hours[:12]])
    orders, lines = [], []
    for i in range(6000 * scale):
        wh, market = rng.choice(whs)
        created = NOW - timedelta(minutes=rng.randint(0, 7 * 24 * 60))
        oid = f"O{i}"
        orders.append({"order_id": oid, "market": market, "warehouse_id": wh, "created_at": created,
                       "promised_delivery_at": created + timedelta(days=4)})
        lines.append({"order_id": oid, "line_id": "1", "sku": rng.choice(skus), "quantity": rng.randint(1, 4)})
    t["orders"], t["order_lines"] = pd.DataFrame(orders), pd.DataFrame(lines)
    ships = []
    for i in range(2000 * scale):
        created = NOW - timedelta(hours=rng.randint(1, 240))
        tag = rng.choice(["InTransit"] * 6 + ["Delivered"] * 3 + ["Exception", "OutForDelivery"])
        delivered = created + timedelta(hours=rng.randint(24, 120)) if tag == "Delivered" else None
        if delivered and delivered > NOW:
            delivered = NOW - timedelta(hours=1)
        ships.append({"shipment_id": f"S{i}", "tracking_number": f"T{i}", "carrier": rng.choice(["ups", "fedex", "dhl"]),
                      "mode": rng.choice(["express", "air", "sea", "truck"]), "direction": "outbound",
                      "order_id": f"O{rng.randrange(6000 * scale)}", "tag": tag, "subtag": f"{tag}_001",
                      "eta": created + timedelta(hours=rng.randint(24, 120)), "delivered_at": delivered,
                      "last_checkpoint_at": min(NOW, created + timedelta(hours=rng.randint(0, 60))),
                      "created_at": created, "updated_at": NOW - timedelta(hours=rng.randint(0, 30)),
                      "origin_country": "CN", "destination_country": "US"})
    t["shipments"] = pd.DataFrame(ships)
    sups = [f"SUP-{i}" for i in range(3 * scale)]
    t["suppliers"] = pd.DataFrame({"supplier_id": sups, "name": sups, "tier": [["primary", "backup", "emergency"][i % 3] for i in range(len(sups))],
                                   "lead_time_days": 10.0, "capacity_per_day": 1000})
    pos, prog = [], []
    for i in range(100 * scale):
        ordered = NOW - timedelta(days=rng.randint(1, 20))
        pos.append({"po_id": f"PO{i}", "supplier_id": rng.choice(sups), "sku": rng.choice(skus), "warehouse_id": "US-WEST",
                    "quantity_ordered": 1000, "ordered_at": ordered, "promised_ship_date": ordered + timedelta(days=25),
                    "status": "in_production"})
        for k in range(rng.randint(1, 6)):
            prog.append({"po_id": f"PO{i}", "observed_at": ordered + timedelta(hours=12 * (k + 1)),
                         "quantity_produced": 80 * (k + 1)})
    t["purchase_orders"], t["po_progress"] = pd.DataFrame(pos), pd.DataFrame(prog).drop_duplicates(["po_id", "observed_at"])
    t["nps_responses"] = pd.DataFrame([{"response_id": f"N{i}", "market": rng.choice(["US", "DE", "GB"]), "score": rng.randint(0, 10),
                                        "created_at": NOW - timedelta(hours=rng.randint(0, 70))} for i in range(500 * scale)])
    t["returns"] = pd.DataFrame([{"return_id": f"R{i}", "sku": rng.choice(skus), "order_id": f"O{rng.randrange(6000 * scale)}",
                                  "status": "approved", "created_at": NOW - timedelta(hours=rng.randint(0, 100))} for i in range(300 * scale)])
    t["sync_runs"] = pd.DataFrame([{"run_id": i, "source": f"src{i % 7}", "started_at": NOW - timedelta(minutes=i),
                                    "finished_at": NOW - timedelta(minutes=i) + timedelta(seconds=2), "status": "ok"}
                                   for i in range(300)])
    return t


def load(db: Database, tables: dict[str, pd.DataFrame]) -> None:
    with db.cursor() as cur:
        for name, df in tables.items():
            cur.register("staged", df)
            cur.execute(f'insert into "{name}" by name select * from staged')
            cur.unregister("staged")
        derived.rebuild(cur)  # bulk-loaded raw rows: the rollups are recomputed once


def bench(scale: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        db = Database(Path(d) / "bench.duckdb")
        tables = generate(scale)
        load(db, tables)
        settings = load_settings()
        clock = ManualClock(NOW)
        engine = AlertEngine(db, settings, clock, None)
        engine.evaluate(force=True)                      # warm-up (first run also opens alerts)
        times = []
        for _ in range(runs):
            clock.advance(minutes=5)
            started = time.perf_counter()
            result = engine.evaluate(force=True)
            times.append(time.perf_counter() - started)
        per_rule = db.df("select rule, duration_ms from alert_rule_runs order by duration_ms desc")
        rules_ms = float(per_rule.duration_ms.sum())
        alerts = int(db.df("select count(*) n from alerts").n[0])
        db.close()
    return {"scale": scale, "rows": sum(len(v) for v in tables.values()), "median_s": statistics.median(times),
            "findings": result.findings, "alerts": alerts, "rules_ms": rules_ms, "slowest": per_rule.head(3).values.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    small, big = bench(1, args.runs), bench(10, args.runs)
    ratio = big["median_s"] / small["median_s"]
    lines = [
        f"Run {datetime.now(timezone.utc):%Y-%m-%d} on {platform.machine()} / Python {platform.python_version()} / "
        f"DuckDB {duckdb.__version__}; `python -m bench.bench_alerts` ({args.runs} timed evaluations each, median; "
        f"all {len(load_settings().rules)} rules, one transaction for the state changes).",
        "",
        "| dataset | rows | findings | median evaluation | of which rule SQL | slowest rules (ms) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in (small, big):
        slow = ", ".join(f"{name} {ms:.0f}" for name, ms in r["slowest"])
        lines.append(f"| ×{r['scale']} | {r['rows']:,} | {r['findings']:,} | {r['median_s'] * 1000:.0f} ms | {r['rules_ms']:.0f} ms | {slow} |")
    sql_share = big["rules_ms"] / (big["median_s"] * 1000)
    lines += ["", f"Ratio ×10 / ×1: **{ratio:.1f}×** for 10× the data (baseline: the same evaluation on ×1). "
              f"On ×10 the rule SQL is {sql_share:.0%} of an evaluation; the rest is the alert bookkeeping "
              "(hold/clear state, bulk updates, the log). Outbound parcels alert per lane, so findings grow "
              "with lanes and inbound shipments, not with parcels."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
        section = "## Alerts\n\n" + text + "\n"
        if re.search(r"^## Alerts\n", current, flags=re.M):
            # Replace only our own section (up to the next "## " heading or the end).
            current = re.sub(r"^## Alerts\n.*?(?=^## |\Z)", section + "\n", current, flags=re.M | re.S)
        else:
            current = current.rstrip("\n") + "\n\n" + section
        README.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
