"""Where one run (connectors/runs.py) writes its bookkeeping, rows and cursors: chosen once per run
from the store, so `runs.sync` reads the same whatever it writes to.

- FileWriter, the embedded DuckDB file (the default): a sequence numbers the runs, rows are written
  with INSERT … ON CONFLICT (connectors/writes.py) and the derived tables move in the same
  transaction; a write-write conflict between this process's threads is retried.
- LakeWriter, the DuckLake store (tower/store.py): no keys and no sequences there, and workers on
  other hosts write too. Rows and the new cursors are MERGEd on their natural keys in one lake
  transaction (connectors/lake_writes.py), retried while the catalog is away or another host
  conflicts; the derived tables are left to the lake's one maintainer (connectors/lake_derived.py).
"""
from __future__ import annotations

import secrets
import threading
import time

import duckdb

from connectors.lake_writes import merge_all, retrying
from connectors.records import Run, Table, sql
from connectors.writes import to_arrow, upsert
from tower import store

# One connector transaction at a time per process: they are short (all HTTP happens before), and
# serialising them avoids DuckDB write-write conflicts between sources that share a table.
WRITE_LOCK = threading.Lock()

SYNC_STATE = Table("sync_state", ("source", "resource"), "merge", "updated_at")
RANDOM_BITS = 20


def new_run_id(now_s: float | None = None) -> int:
    """A run id no other host picks, with no sequence to ask: wall-clock milliseconds shifted left
    by 20 bits, plus 20 random bits. Two runs share an id only if they start in the same
    millisecond and draw the same bits (one chance in a million for such a pair); ids still grow
    with time like the sequence's numbers (`run_id desc` breaks ties as newest first), stay positive
    in a bigint until the year 2248, and say when a run started in real time whatever clock its
    worker runs (a sandbox's runs 60× faster), which is how a leftover `running` row is told apart."""
    ms = int((time.time() if now_s is None else now_s) * 1000)
    return (ms << RANDOM_BITS) | secrets.randbits(RANDOM_BITS)


class FileWriter:
    """The embedded DuckDB file: the statements `runs.sync` always ran."""

    def mark_interrupted(self, cur, source: str, now) -> None:
        cur.execute(sql("runs_mark_interrupted"), {"source": source, "now": now})

    def start(self, cur, source: str, started) -> int:
        return cur.execute(sql("run_start"), {"source": source, "started_at": started}).fetchone()[0]

    def finish(self, cur, outcome: dict) -> None:
        cur.execute(sql("run_finish"), outcome)

    def commit(self, cur, source, run: Run, clock, attempts: int = 3) -> dict[str, int]:
        """All tables and the new cursors in one transaction (retried on a write-write conflict)."""
        staged = {t.name: to_arrow(run.rows.get(t.name, [])) for t in source.tables}
        for attempt in range(attempts):
            with WRITE_LOCK:
                cur.begin()
                try:
                    written = {t.name: upsert(cur, t, staged[t.name]) for t in source.tables}
                    for resource, value in run.new_cursors.items():
                        cur.execute(sql("state_put"), {"source": source.name, "resource": resource,
                                                       "cursor": value, "updated_at": clock.now()})
                    cur.commit()
                    return written
                except duckdb.TransactionException:
                    cur.rollback()
                    if attempt == attempts - 1:
                        raise
                except BaseException:
                    cur.rollback()
                    raise
        return {}  # pragma: no cover - the loop returns or raises


class LakeWriter:
    """The DuckLake store. Each statement (or the run's one data transaction) is retried while the
    catalog is away, for up to `give_up_s`; then the error is the run's."""

    # a `running` row older than this (real time) has no live worker behind it: no sync runs that long
    stale_after_s = 3600.0

    def __init__(self, retry_s: float = 0.5, give_up_s: float = 300.0):
        self.retry_s, self.give_up_s = retry_s, give_up_s

    def _retried(self, cur, work):
        return retrying(cur, work, self.retry_s, self.give_up_s)[0]

    def mark_interrupted(self, cur, source: str, now) -> None:
        params = {"source": source, "now": now,
                  "started_before_id": new_run_id(time.time() - self.stale_after_s)}
        self._retried(cur, lambda: cur.execute(sql("lake_runs_mark_interrupted"), params))

    def start(self, cur, source: str, started) -> int:
        run_id = new_run_id()
        params = {"run_id": run_id, "source": source, "started_at": started}
        self._retried(cur, lambda: cur.execute(sql("lake_run_start"), params))
        return run_id

    def finish(self, cur, outcome: dict) -> None:
        self._retried(cur, lambda: cur.execute(sql("run_finish"), outcome))

    def commit(self, cur, source, run: Run, clock) -> dict[str, int]:
        """Every table and the new cursors in one lake transaction."""
        staged = {t.name: to_arrow(run.rows.get(t.name, [])) for t in source.tables}

        def write() -> dict[str, int]:
            now = clock.now()
            cursors = [{"source": source.name, "resource": resource, "cursor": value, "updated_at": now}
                       for resource, value in run.new_cursors.items()]
            counts = merge_all(cur, [(t, staged[t.name]) for t in source.tables] + [(SYNC_STATE, cursors)])
            return {t.name: n for t, n in zip(source.tables, counts)}

        with WRITE_LOCK:
            return self._retried(cur, write)


def writer_for(db) -> FileWriter | LakeWriter:
    """The writer for the store `db` is (tower.store.is_lake)."""
    return LakeWriter() if store.is_lake(db) else FileWriter()
