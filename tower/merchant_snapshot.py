"""A merchant's own database: the analyst snapshot cut down to one merchant's rows.

An S2B2C merchant user (tower.auth.policy.Identity with `merchant` set) never reads the full data:
its pages, exports and SQL console all open the file `fresh(snapshot, merchant)` returns. That file
has Tower's whole schema (every migration, so pages and the semantic layer's kpi_* macros work) but
holds only what the merchant may see; everything else is an empty table. Because the other rows are
not in the file at all, no join, CTE, table function, catalog view or macro argument can reach them.

What is copied is decided by the queries/merchant/copy_*.sql files (each says why):
  orders, order lines, outbound parcels and their checkpoints, returns, NPS and CSAT answers: the
  merchant's; SKUs: the ones it sold (no platform cost); warehouses its orders ship from (no stock);
  promotions; exchange rates; alerts about its parcels and their log; source run times (no counts).
Derived tables (rollups, current state) are rebuilt from those rows, never copied.
Not copied (empty): stock, stock policies, forecasts, suppliers, purchase orders and their
progress, inbound shipments, nodes, disruptions, annotations, alert rule state, notifications,
audit, wall tokens, sync cursors — and any table a future migration adds, until a copy file says
how to cut it (fail closed).

Files live in <snapshot folder>/merchant/<merchant key>/<source mtime>.duckdb: a new name per build,
because DuckDB shares one open instance per path inside a process, so re-using a path could keep
serving the old file; the two newest builds are kept so a reader that just got a path can open it.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

import queries
from connectors import derived
from tower.db import Database

# Tables are filled in this order: later copies select from rows already copied (orders first).
COPIES = ("merchants", "orders", "order_lines", "shipments", "tracking_events",
          "returns", "nps_responses", "csat_responses", "skus", "warehouses", "events", "fx_rates", "alerts",
          "alert_log", "sync_runs")
KEEP_BUILDS = 2
_lock = threading.Lock()
_SAFE = re.compile(r"[^a-z0-9-]+")


def key(merchant: str) -> str:
    """A file-system-safe folder name for any merchant id (readable part + hash, so two ids that
    clean up alike never share a file)."""
    readable = _SAFE.sub("-", merchant.lower()).strip("-")[:40] or "merchant"
    return f"{readable}-{hashlib.sha256(merchant.encode()).hexdigest()[:12]}"


def folder(snapshot: str | os.PathLike, merchant: str) -> Path:
    return Path(snapshot).parent / "merchant" / key(merchant)


def fresh(snapshot: str | os.PathLike, merchant: str, engine: dict | None = None) -> Path:
    """The merchant's database cut from `snapshot` (an analyst snapshot file), built now if this
    snapshot has not been cut for this merchant yet. Raises FileNotFoundError without a snapshot.
    `engine`: DuckDB limits for the build (`memory_limit`, `threads`): it opens its own DuckDB
    instance inside the server or console process, which would otherwise take DuckDB's default of
    80 % of the machine's memory."""
    if not isinstance(merchant, str) or not merchant:
        raise ValueError("a merchant scope needs a merchant id")
    snapshot = Path(snapshot)
    version = snapshot.stat().st_mtime_ns
    where = folder(snapshot, merchant)
    dest = where / f"{version}.duckdb"
    with _lock:
        if not dest.exists():
            build(snapshot, merchant, dest, engine)
            _prune(where)
    return dest


def build(snapshot: Path, merchant: str, dest: Path, engine: dict | None = None) -> Path:
    """Write the merchant's database to `dest` (via a temporary file renamed into place; a failed
    build leaves no file behind)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    _remove(tmp)
    try:
        db = Database(tmp, extra_dirs=[snapshot.parent], engine=engine)  # full schema, empty tables
        try:
            _fill(db.cursor(), snapshot, merchant)
        finally:
            db.close()
    except BaseException:
        _remove(tmp)
        raise
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    os.replace(tmp, dest)
    return dest


def _fill(cur, snapshot: Path, merchant: str) -> None:
    cur.execute(queries.load("merchant/attach_source"), {"path": str(snapshot)})
    try:
        cur.begin()
        try:
            for table in COPIES:
                sql = queries.load(f"merchant/copy_{table}")
                cur.execute(sql, {"merchant": merchant} if "$merchant" in sql else None)
            cur.commit()
        except BaseException:
            cur.rollback()  # so that detaching the source works
            raise
        derived.rebuild_each(cur)  # rollups and current state from the merchant's own rows only
    finally:
        cur.execute(queries.load("merchant/detach_source"))
    cur.execute(queries.load("merchant/checkpoint"))


def _remove(tmp: Path) -> None:
    for path in (tmp, Path(f"{tmp}.wal")):
        path.unlink(missing_ok=True)


def _prune(where: Path) -> None:
    builds = sorted(where.glob("*.duckdb"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in builds[KEEP_BUILDS:]:
        old.unlink(missing_ok=True)
