"""The reference dataset of issue 15: a busy seller's month at the scale a real S2B2C platform or a
peak season brings — 1,000,000 orders, ~5,000,000 tracking checkpoints, 2,000 SKUs × 20 warehouses
with 30 days of stock levels (~5.8M observations), ~200 merchants and ~5,000 POs, plus returns, NPS
and CSAT in the sandbox's proportions.

    from bench.reference import reference_db
    ref = reference_db("/tmp/b/ref")            # a few minutes on 2 cores
    small = reference_db("/tmp/b/ref", scale=0.01, template_days=3)   # for tests

How it is built, in two steps:
1. A 30-day sandbox world synced through the real connectors (`bench.dataset.sandbox_db`): the
   rows are the vendors' shapes as Tower stores them (Shopify orders, AfterShip trackings and
   checkpoints, supplier-portal POs, Delighted answers …), with the member-day promotion running
   at `at` (surge, primary supplier silent).
2. That world, attached read-only, multiplied in DuckDB SQL (queries/bench/reference_build.sql):
   each order or PO family copied with suffixed ids, its SKU, warehouse and shop spread over the
   copies of those dimensions, moved back 0–30 min; plans and stock levels scaled by the share of
   demand each copy receives, so rates stay the sandbox's while counts grow. Then every derived
   table (rollups, current state) is rebuilt from the raw rows, as a migration backfill would.

Same seed, `at` and scale → the same database.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

import queries
from bench.dataset import DB_NAME, Dataset, sandbox_db
from connectors import derived
from connectors.testing import table_counts
from tower.clock import SystemClock, utc
from tower.db import Database

# The full reference scale: template world (30 days ≈ 13k orders, 16 SKUs, 4 warehouses,
# 3 shops, 587 POs) × these copies.
ORDER_COPIES = 77          # 13k × 77 ≈ 1.0M orders
SKU_COPIES = 125           # 16 × 125 = 2,000 SKUs
WAREHOUSE_COPIES = 5       # 4 × 5 = 20 warehouses
MERCHANT_COPIES = 67       # 3 × 67 = 201 shops
PO_COPIES = 9              # 587 × 9 ≈ 5,300 POs
STOCK_POINTS = 145         # 40,000 pairs × 145 ≈ 5.8M observations over 30 days (one every ~5 h)
CHECKPOINTS = 5_000_000


@dataclass(frozen=True)
class Plan:
    copies: int
    sku_copies: int
    wh_copies: int
    merchant_copies: int
    po_copies: int
    stock_points: int
    checkpoint_keep_pct: int

    @classmethod
    def at_scale(cls, scale: float, template_checkpoints: int, template_shipment_count: int) -> "Plan":
        def n(full: int) -> int:
            return max(1, round(full * scale))
        copies = n(ORDER_COPIES)
        # keep every copy's newest checkpoint, sample the rest to land near CHECKPOINTS × scale
        extra = max(1, template_checkpoints - template_shipment_count)
        wanted = CHECKPOINTS * scale / copies - template_shipment_count
        keep = int(min(100, max(0, round(100 * wanted / extra))))
        return cls(copies, n(SKU_COPIES), n(WAREHOUSE_COPIES), n(MERCHANT_COPIES), n(PO_COPIES),
                   n(STOCK_POINTS), keep)

    @property
    def pair_share(self) -> float:
        """The share of a template SKU × warehouse's demand one copied pair receives."""
        return self.copies / (self.sku_copies * self.wh_copies)


def reference_db(folder: str | os.PathLike, *, scale: float = 1.0, seed: int = 7, at: datetime | None = None,
                 template_days: float = 30, memory_limit: str | None = None) -> Dataset:
    """The reference dataset at `folder/tower.duckdb` as of `at` (default: this minute); `scale`
    shrinks every count (0.01 → ~10k orders). `folder` is emptied first."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    started = time.perf_counter()
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    at = utc(at or SystemClock().now()).replace(second=0, microsecond=0)
    template = sandbox_db(folder / "template", seed=seed, history_days=template_days, at=at)
    path = folder / DB_NAME
    Database(path).close()  # the schema, migrations and the semantic layer
    con = duckdb.connect(str(path))
    try:
        con.execute("set timezone = 'UTC'")
        if memory_limit:
            con.execute("set memory_limit = $limit", {"limit": memory_limit})
        con.execute(queries.load("bench/reference_attach"), {"path": str(template.path)})
        plan = Plan.at_scale(scale, template.counts["tracking_events"], template.counts["shipments"])
        con.execute(queries.load("bench/reference_plan"), {**plan.__dict__, "pair_share": plan.pair_share,
                                                            "now_at": at, "stock_step_s": 30 * 86400 // plan.stock_points})
        con.begin()
        con.execute(queries.load("bench/reference_build"))
        con.commit()
        derived.rebuild_each(con)
        con.execute(queries.load("bench/reference_detach"))
        con.execute("checkpoint")
    finally:
        con.close()
    shutil.rmtree(folder / "template", ignore_errors=True)
    db = Database(path)
    try:
        counts = table_counts(db)
    finally:
        db.close()
    return Dataset(path, at, template.event_start, time.perf_counter() - started, counts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Build the reference dataset (issue 15).")
    ap.add_argument("--out", default="data/bench/reference")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--memory-limit", help="DuckDB's memory_limit while building (e.g. 512MB)")
    args = ap.parse_args(argv)
    ref = reference_db(args.out, scale=args.scale, seed=args.seed, memory_limit=args.memory_limit)
    size = ref.path.stat().st_size / 2**20
    print(f"{ref.path}: built in {ref.build_s:.0f} s, {size:,.0f} MB, as of {ref.now:%Y-%m-%d %H:%M} UTC")
    for table, n in sorted(ref.counts.items()):
        if n:
            print(f"  {table:24} {n:>12,}")


if __name__ == "__main__":
    main()
