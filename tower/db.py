"""The DuckDB store: one owning process opens the file read-write, applies numbered migrations from
queries/schema/, and hands out cursors to threads. Analysts read a published snapshot instead."""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

import queries
from queries import dynamic


log = logging.getLogger("tower.db")


class DatabaseLocked(RuntimeError):
    """Another process (usually the running app) owns the database file."""


class Database:
    def __init__(self, path: str | os.PathLike, read_only: bool = False, extra_dirs=()):
        """Open (and migrate) the database. Unless read-only or in memory, the instance is then
        hardened: see `_harden`. `extra_dirs` are folders outside the data folder DuckDB may still
        touch (e.g. a snapshot folder elsewhere)."""
        self.path = Path(path)
        self.source = None  # the database snapshots copy (None: this connection's own)
        self.search_path = None  # set on every cursor when given (the DuckLake store)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise DatabaseLocked(
                    f"{self.path} is held by another process (is the Tower app running?). "
                    "Stop it, or let the app's own scheduler sync; analysts can read the snapshot."
                ) from e
            raise
        self._snapshot_lock = threading.Lock()
        if read_only:
            self.con.execute("set timezone = 'UTC'")
            return
        self.migrate()
        self.install_layer()
        if str(path) == ":memory:":
            self.con.execute("set timezone = 'UTC'")
        else:
            self._harden(self.path.parent, extra_dirs)

    @classmethod
    def for_config(cls, cfg) -> "Database":
        """The live database named by a tower.config.Config (its snapshot folder allowed too)."""
        return cls(cfg.db_path, extra_dirs=[cfg.snapshot_path.parent])

    @classmethod
    def over_connection(cls, con: duckdb.DuckDBPyConnection, path: Path, source: str,
                        allowed_dirs, search_path: str) -> Database:
        """A Database over a connection opened elsewhere (the DuckLake store, tower.store): its
        tables exist already in the attached database `source` (snapshots copy that one), so no
        migrations; the semantic layer is installed, then the instance is hardened like a file's:
        only `allowed_dirs` (the lake's data folder, the snapshot folder) are reachable. Every cursor
        then resolves names through `search_path` (set after the layer, which must stay in memory)."""
        db = cls.__new__(cls)
        db.path, db.con, db.source, db._snapshot_lock = Path(path), con, source, threading.Lock()
        db.search_path = None
        db.install_layer()
        db.search_path = search_path
        db._harden(Path(allowed_dirs[0]), allowed_dirs[1:])
        return db

    # ── access ──────────────────────────────────────────────────────────────────────────────────
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cur = self.con.cursor()  # inherits the global UTC time zone
        if self.search_path:
            cur.execute(queries.load("core/search_path"), {"path": self.search_path})
        return cur

    def df(self, sql: str, params: dict | list | None = None) -> pd.DataFrame:
        with self.cursor() as cur:
            return cur.execute(sql, params).df()

    def query(self, name: str, params: dict | None = None) -> pd.DataFrame:
        """Run a named query from queries/ with bound parameters."""
        return self.df(queries.load(name), params)

    def close(self) -> None:
        self.con.close()

    def _harden(self, data_dir: Path, extra_dirs) -> None:
        """Make DuckDB itself refuse what the SQL console must never do, for the whole instance:
        files only inside the data folder, no extension installs, no Python replacement scans of
        local variables, and no settings changes. Registered DataFrames, ATTACH of a snapshot file
        inside the data folder and COPY FROM DATABASE keep working. Once locked even `set timezone`
        is refused, so UTC is set globally first and new cursors inherit it."""
        if self.con.execute(queries.load("core/config_locked")).fetchone()[0]:
            return  # this process already opened (and hardened) the same database instance
        dirs = [str(Path(d).resolve()) + os.sep for d in (data_dir, *extra_dirs)]
        self.con.execute("set global timezone = 'UTC'")
        self.con.execute("set allowed_directories = $dirs", {"dirs": dirs})
        self.con.execute("set enable_external_access = false")
        self.con.execute("set lock_configuration = true")

    # ── schema ──────────────────────────────────────────────────────────────────────────────────
    def migrate(self) -> list[str]:
        """Apply queries/schema/NNN_*.sql files not yet applied, each in its own transaction."""
        cur = self.cursor()
        cur.execute(queries.load("core/migrations_table"))
        done = {r[0] for r in cur.execute(queries.load("core/migrations_done")).fetchall()}
        applied = []
        for name in queries.names("schema"):
            version = name.split("/")[-1]
            if version in done:
                continue
            cur.begin()
            try:
                cur.execute(queries.load(name))
                cur.execute(queries.load("core/migration_record"),
                            {"version": version, "applied_at": datetime.now(timezone.utc)})
                cur.commit()
            except Exception:
                cur.rollback()
                raise
            applied.append(version)
        return applied

    def install_layer(self) -> list[str]:
        """(Re)create the semantic layer's macros (queries/kpi/). They are definitions, not data:
        replacing them at every open keeps one version, the code's. A file that cannot be created
        (a damaged database missing a table) is skipped and named in the log and the return value:
        its KPI then fails alone, as an error on its tile, instead of the whole app."""
        failed = []
        cur = self.cursor()
        for name in queries.layer():
            try:
                cur.execute(queries.load(name))
            except duckdb.Error as e:
                log.error("semantic layer: %s not installed: %s", name, e)
                failed.append(name)
        return failed

    # ── snapshot for analysts ───────────────────────────────────────────────────────────────────
    def snapshot(self, dest: str | os.PathLike) -> Path:
        """Publish a consistent read-only copy of the database at `dest` (a .duckdb file).

        The copy is written to a temporary file and renamed into place, so readers never see a
        half-written snapshot; COPY FROM DATABASE reads one transaction's view of the data."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        with self._snapshot_lock:
            tmp.unlink(missing_ok=True)
            cur = self.cursor()
            db_name = self.source or cur.execute(queries.load("core/current_database")).fetchone()[0]
            cur.execute(dynamic.attach_snapshot(str(tmp)))
            try:
                cur.execute(dynamic.copy_database(db_name))
            finally:
                cur.execute(queries.load("core/snapshot_detach"))
            os.replace(tmp, dest)
        return dest
