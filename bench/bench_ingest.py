"""Ingest throughput: the connectors' bulk path vs naive row-by-row inserts, same records, one run.

    python bench/bench_ingest.py [--rows 50000] [--naive-rows 5000] [--seed 1]

Bulk = what `connectors.base.upsert` does: rows → Arrow table → registered in DuckDB → deduplicated
on the key → one `insert … by name … on conflict do nothing`, in one transaction.
Naive = `executemany("insert … values (?, …) on conflict do nothing", rows)` in one transaction.
Both load the same generated tracking checkpoints (with ~5 % duplicates, as carriers resend them)
into a fresh database file each and must end with the same row count. Row by row runs at tens of rows
a second here, so the head-to-head ratio uses the first `--naive-rows` records for both paths; the
bulk path is then also timed on all `--rows` records for its throughput at scale.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.base import Table, to_arrow, upsert  # noqa: E402
from tower.db import Database  # noqa: E402

COLUMNS = ("shipment_id", "checkpoint_time", "tag", "subtag", "message", "location", "city", "country",
           "lat", "lon", "raw_checkpoint_time", "created_at")
TAGS = ("InfoReceived", "InTransit", "OutForDelivery", "Delivered", "Exception")
NAIVE_SQL = (f"insert into tracking_events ({', '.join(COLUMNS)}) "
             f"values ({', '.join('?' for _ in COLUMNS)}) on conflict do nothing")


def generate(n: int, seed: int) -> list[dict]:
    """n checkpoint rows over n/6 shipments; about 5 % are exact repeats of an earlier row."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows: list[dict] = []
    while len(rows) < n:
        if rows and rng.random() < 0.05:
            rows.append(dict(rng.choice(rows)))
            continue
        new_shipment = len(rows) % 6 == 0 or not rows
        ship = f"{rng.getrandbits(128):032x}" if new_shipment else rows[-1]["shipment_id"]
        t = start + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        tag = rng.choice(TAGS)
        rows.append({
            "shipment_id": ship, "checkpoint_time": t, "tag": tag, "subtag": f"{tag}_001",
            "message": rng.choice(("Departed facility", "Arrived at facility", "Out for delivery",
                                   "Delivered", "Customs clearance")),
            "location": "Hub", "city": rng.choice(("Los Angeles", "Shenzhen", "Newark", "Hamburg")),
            "country": rng.choice(("US", "CN", "DE")),
            "lat": rng.uniform(-60, 60), "lon": rng.uniform(-180, 180),
            "raw_checkpoint_time": t.strftime("%Y-%m-%dT%H:%M:%S"), "created_at": t + timedelta(minutes=3),
        })
    return rows


def bulk(db: Database, rows: list[dict]) -> float:
    table = Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None)
    cur = db.cursor()
    t0 = time.perf_counter()
    cur.execute("begin transaction")
    upsert(cur, table, to_arrow(rows))
    cur.execute("commit")
    return time.perf_counter() - t0


def naive(db: Database, rows: list[dict]) -> float:
    cur = db.cursor()
    values = [[r[c] for c in COLUMNS] for r in rows]
    t0 = time.perf_counter()
    cur.execute("begin transaction")
    cur.executemany(NAIVE_SQL, values)
    cur.execute("commit")
    return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--naive-rows", type=int, default=5_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    rows = generate(args.rows, args.seed)
    head = rows[: args.naive_rows]
    with tempfile.TemporaryDirectory() as d:
        dbs = {k: Database(Path(d) / f"{k}.duckdb") for k in ("bulk", "naive", "bulk_all")}
        t_bulk = bulk(dbs["bulk"], head)
        t_naive = naive(dbs["naive"], head)
        t_all = bulk(dbs["bulk_all"], rows)
        n = {k: int(db.df("select count(*) n from tracking_events").n[0]) for k, db in dbs.items()}
        for db in dbs.values():
            db.close()
    if n["bulk"] != n["naive"]:
        print(f"row counts differ: bulk {n['bulk']} vs naive {n['naive']}", file=sys.stderr)
        return 1
    print(f"same {len(head)} records ({n['bulk']} distinct), seed {args.seed}:")
    for label, seconds in (("bulk  (Arrow → dedup → insert … on conflict)", t_bulk),
                           ("naive (executemany, row by row)", t_naive)):
        print(f"  {label:<46} {seconds:8.3f} s {len(head) / seconds:10,.0f} rows/s")
    print(f"  speed-up: {t_naive / t_bulk:.0f}x")
    print(f"bulk on all {len(rows)} records ({n['bulk_all']} distinct): {t_all:.3f} s "
          f"{len(rows) / t_all:,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
