"""A connector worker process on the DuckLake store (tests/test_ducklake.py): it writes AfterShip-shaped
syncs through connectors.lake_writes with the AfterShip connector's own table definitions. Each sync
overlaps the previous one and the other worker's (the same shipment seen twice, as real polling does).

    python tests/lake_worker.py <data_path> <worker_id> <syncs>   (DSN in TOWER_STORE_CATALOG_DSN)"""
from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.aftership import AfterShipSource
from connectors.lake_writes import INVALIDATED, write_sync
from tower import store

T0 = datetime(2026, 11, 11, tzinfo=UTC)
PER_SYNC = 40


def sync_rows(sync: int, worker: int) -> tuple[list[dict], list[dict]]:
    """Shipments sync*20 … sync*20+39 (half overlap the previous sync; both workers write them),
    newer `updated_at` on every sync; one checkpoint per shipment per sync."""
    shipments, events = [], []
    for i in range(sync * PER_SYNC // 2, sync * PER_SYNC // 2 + PER_SYNC):
        at = T0 + timedelta(minutes=sync)
        shipments.append({"shipment_id": f"s{i:05d}", "carrier": "sf-express", "tag": "InTransit",
                          "updated_at": at, "created_at": T0})
        events.append({"shipment_id": f"s{i:05d}", "checkpoint_time": at, "tag": "InTransit",
                       "message": f"scan {sync}", "created_at": at})
    return shipments, events


def open_lake(data_path: str, give_up_s: float = 120):
    """The lake, opened again until the catalog answers (a worker starting while it is away)."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            return store.open_lake(store.catalog_dsn(Path("/nonexistent")), data_path)
        except duckdb.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main(data_path: str, worker: int, syncs: int) -> None:
    con = open_lake(data_path)
    shipments, events = AfterShipSource.tables
    for sync in range(syncs):
        s, e = sync_rows(sync, worker)
        while True:
            try:
                attempts = write_sync(con, [(shipments, s), (events, e)], retry_s=0.3, give_up_s=120)
                break
            except INVALIDATED as err:  # DuckDB gave up on its database: a new one, the same sync
                print(f"sync {sync}: lake connection invalidated ({str(err).splitlines()[0][:120]}), "
                      "reopening", flush=True)
                con = open_lake(data_path)
        print(f"sync {sync} committed after {attempts} attempt(s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
