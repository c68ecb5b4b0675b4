"""Derived tables (rollups, current-state tables) on the DuckLake store, kept by one maintainer that
follows the lake's change feed.

Workers only MERGE raw rows (connectors/lake_writes.py). Running the maintainers inside every
worker's transaction let two workers insert the same derived key (DuckLake keeps no keys to catch
it), so one process does it after them: `catch_up` reads what was committed since the snapshot the
derived tables reflect (DuckLake's `table_changes`: inserted rows and both images of updated ones, so
an order a parcel moved away from is recomputed too), hands each raw table's changed rows to
connectors.derived exactly as a local write does, and moves the mark — all in one lake transaction.
A crash or a lost catalog leaves the mark where it was and the next pass redoes the range (the
maintainers recompute what a batch touched, so a repeat changes nothing). Run one per lake (the app
server with `[store] maintain = true`, the default); a second one overlapping it fails to commit."""
from __future__ import annotations

import logging
import threading

import duckdb

from connectors import derived
from queries import lake

log = logging.getLogger("connectors.lake_derived")
STAGE = "_lake_changes"


def catch_up(db) -> int:
    """Bring the lake's derived tables up to its newest snapshot; returns how many changed raw rows
    that took (0: nothing new, and then nothing is committed — the maintainer's own commits hold
    no raw changes, so it never wakes itself). `db`: the lake's tower.db.Database (tower.store)."""
    cur = db.cursor()
    try:
        cur.begin()
        try:
            done = cur.execute(lake.derived_mark()).fetchone()[0]
            newest = cur.execute(lake.current_snapshot()).fetchone()[0]
            start = 0 if done is None else done + 1
            changed = 0
            for table in derived.followed_tables() if newest >= start else ():
                changes = cur.execute(lake.table_changes(table, start, newest)).fetch_arrow_table()
                if changes.num_rows:
                    changed += changes.num_rows
                    cur.register(STAGE, changes)
                    try:
                        tokens = derived.before(cur, table, STAGE)
                        derived.after(cur, table, STAGE, tokens)
                    finally:
                        cur.unregister(STAGE)
            if not changed:
                cur.rollback()
                return 0
            cur.execute(lake.clear_derived_mark())
            cur.execute(lake.insert_derived_mark(), {"snapshot_id": newest})
            cur.commit()
            return changed
        except BaseException:
            try:
                cur.rollback()
            except duckdb.Error:
                pass  # a failed commit has rolled back already
            raise
    finally:
        cur.close()


class Maintainer(threading.Thread):
    """`catch_up` every `every_s` seconds until stopped; a failed pass is logged and retried."""

    def __init__(self, db, every_s: float = 5.0):
        super().__init__(name="lake-derived", daemon=True)
        self.db, self.every_s = db, every_s
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                catch_up(self.db)
            except duckdb.Error as e:
                log.warning("derived tables on the lake not caught up (retrying): %s", str(e).splitlines()[0][:300])
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=10)
