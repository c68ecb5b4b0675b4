"""The DuckDB store: one owning process opens the file read-write, applies numbered migrations from
queries/schema/, and hands out cursors to threads. Analysts read a published snapshot instead."""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

import queries
from queries import dynamic
from tower import data_version, empty_db
from tower.data_version import VersionedCursor


log = logging.getLogger("tower.db")


class DatabaseLocked(RuntimeError):
    """Another process (usually the running app) owns the database file."""


ENGINE_SETTINGS = ("memory_limit", "temp_directory", "max_temp_directory_size", "threads")  # [database] keys


def apply_engine_settings(con: duckdb.DuckDBPyConnection, engine: dict) -> None:
    """Set DuckDB's resource limits on a new instance (a no-op once it is locked: the process
    opened and hardened it already, with the same config)."""
    if not engine or con.execute(queries.load("core/config_locked")).fetchone()[0]:
        return
    for name, value in engine.items():
        if name not in ENGINE_SETTINGS:
            raise ValueError(f"not a DuckDB resource setting Tower sets: {name}")
        con.execute(queries.load("core/set_engine_setting").replace("{setting}", name), {"value": value})


@functools.cache
def layer_fingerprint() -> str:
    """What the semantic layer's macros are made of: its files' text and the DuckDB storing them."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    for name in queries.layer():
        digest.update(f"{name}\0{queries.load(name)}\0".encode())
    return digest.hexdigest()


class Database:
    def __init__(self, path: str | os.PathLike, read_only: bool = False, extra_dirs=(), engine=None,
                 from_empty: bool = True):
        """Open (and migrate) the database. Unless read-only or in memory, the instance is then
        hardened: see `_harden`. `extra_dirs` are folders outside the data folder DuckDB may still
        touch (e.g. a snapshot folder elsewhere). `engine`: DuckDB settings (memory_limit,
        temp_directory, …: `Config.engine`) applied before the configuration is locked. A new file
        starts as a copy of the process's empty database (tower.empty_db) unless `from_empty` is
        False: then it is migrated from scratch."""
        self.path = Path(path)
        self.source = None  # the database snapshots copy (None: this connection's own)
        self._reopen = None  # a file is not reopened in process (see over_connection)
        self.search_path = None  # set on every cursor when given (the DuckLake store)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if from_empty and not read_only and not self.path.exists():
                empty_db.copy_to(self.path, lambda template: Database(template, from_empty=False).close())
        try:
            self.con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise DatabaseLocked(
                    f"{self.path} is held by another process (is the Tower app running?). "
                    "Stop it, or let the app's own scheduler sync; analysts can read the snapshot."
                ) from e
            raise
        apply_engine_settings(self.con, engine or {})
        self._snapshot_lock, self._snapshot_state = threading.Lock(), threading.Lock()
        self._copying: duckdb.DuckDBPyConnection | None = None  # the snapshot copy's cursor, if one runs
        self._copy_interrupted = False
        self._version_key = data_version.register(
            str(self.path.resolve()) if str(path) != ":memory:" else ":memory:")
        if read_only:
            self.con.execute("set timezone = 'UTC'")
            return
        self.migrate()
        self.install_layer(unless_current=True)
        if str(path) == ":memory:":
            self.con.execute("set timezone = 'UTC'")
        else:
            self._harden(self.path.parent, extra_dirs)

    @classmethod
    def for_config(cls, cfg) -> "Database":
        """The live database named by a tower.config.Config (its snapshot folder allowed too)."""
        return cls(cfg.db_path, extra_dirs=[cfg.snapshot_path.parent], engine=cfg.engine)

    @classmethod
    def over_connection(cls, con: duckdb.DuckDBPyConnection, path: Path, source: str,
                        allowed_dirs, search_path: str, reopen=None) -> Database:
        """A Database over a connection opened elsewhere (the DuckLake store, tower.store): its
        tables exist already in the attached database `source` (snapshots copy that one), so no
        migrations; the semantic layer is installed, then the instance is hardened like a file's:
        only `allowed_dirs` (the lake's data folder, the snapshot folder) are reachable. Every cursor
        then resolves names through `search_path` (set after the layer, which must stay in memory).
        `reopen()` returns a new connection like `con`: it replaces `con` once DuckDB has
        invalidated it (see `_raw_cursor`)."""
        db = cls.__new__(cls)
        db.path, db.con, db.source, db._snapshot_lock = Path(path), con, source, threading.Lock()
        db._snapshot_state, db._copying, db._copy_interrupted = threading.Lock(), None, False
        db.search_path = None
        db._version_key = None  # other hosts write the lake: its own snapshot id is the version
        db.install_layer()
        db.search_path = search_path
        db._harden(Path(allowed_dirs[0]), allowed_dirs[1:])
        db._reopen = None if reopen is None else (
            lambda: cls.over_connection(reopen(), path, source, allowed_dirs, search_path).con)
        db._reopen_lock = threading.Lock()
        return db

    # ── access ──────────────────────────────────────────────────────────────────────────────────
    def cursor(self) -> VersionedCursor:
        """A cursor for the calling thread (DuckDB connections are not shared across threads).
        Its committed writes move `data_version()`."""
        return VersionedCursor(self._raw_cursor(), self.touch)

    def _raw_cursor(self, reopened: bool = False) -> duckdb.DuckDBPyConnection:
        con = self.con
        cur = con.cursor()  # inherits the global UTC time zone
        if self.search_path:  # a lake: its tables first, then the semantic layer's macros
            try:
                cur.execute(queries.load("core/search_path"), {"path": self.search_path})
            except duckdb.FatalException:
                # DuckDB invalidated this in-memory instance (an internal error, e.g. a commit cut
                # short by the catalog's stop) and refuses every statement on it for good: the
                # writer that hit the error has failed its run; everyone after it gets a new one.
                if self._reopen is None or reopened:
                    raise
                self._replace(con)
                return self._raw_cursor(reopened=True)
        return cur

    def _replace(self, dead: duckdb.DuckDBPyConnection) -> None:
        """Open the store again in place of `dead`, once however many threads found it dead."""
        with self._reopen_lock:
            if self.con is not dead:
                return  # another thread replaced it already
            log.warning("DuckDB invalidated the store's connection: opening it again")
            self.con = self._reopen()
        try:
            dead.close()
        except duckdb.Error:
            pass  # closing an invalidated instance may fail too; it is dropped either way

    def data_version(self) -> int:
        """A number that changes whenever a committed write changes this file's data (any writer
        in this process: syncs, webhooks, uploads, actions, alert state). Reads never change it.
        Cache keys built on it show new data at once: a new version is a new key. On DuckLake the
        writers are other processes, so the lake's newest snapshot id is the version."""
        if self._version_key is None:
            with self._raw_cursor() as cur:
                return int(cur.execute(queries.load("core/lake_data_version")).fetchone()[0] or 0)
        return data_version.current(self._version_key)

    def touch(self) -> int:
        """Move the data version on (called by cursors after a committed write). Returns it."""
        if self._version_key is None:
            return self.data_version()
        return data_version.bump(self._version_key)

    def df(self, sql: str, params: dict | list | None = None) -> pd.DataFrame:
        with self.cursor() as cur:
            return cur.execute(sql, params).df()

    def query(self, name: str, params: dict | None = None) -> pd.DataFrame:
        """Run a named query from queries/ with bound parameters."""
        return self.df(queries.load(name), params)

    def close(self, timeout_s: float = 10.0) -> None:
        """Close the instance. DuckDB refuses (ResourceInUseException) rather than waits when another
        thread is taking a cursor at that moment, which a stopping server's threads still may: try
        again until `timeout_s`. Seen once as a traceback and an aborted exit in a soak's stop."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.con.close()
                return
            except duckdb.ResourceInUseException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _harden(self, data_dir: Path, extra_dirs) -> None:
        """Make DuckDB itself refuse what the SQL console must never do, for the whole instance:
        files only inside the data folder, no extension installs, no Python replacement scans of
        local variables, and no settings changes. Registered DataFrames, ATTACH of a snapshot file
        inside the data folder and copying into it (the analyst snapshot) keep working. Once
        locked even `set timezone` is refused, so UTC is set globally first and new cursors
        inherit it."""
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

    def install_layer(self, *, unless_current: bool = False) -> list[str]:
        """(Re)create the semantic layer's macros (queries/kpi/). They are definitions, not data:
        replacing them keeps one version, the code's. A file that cannot be created (a damaged
        database missing a table) is skipped and named in the log and the return value: its KPI
        then fails alone, as an error on its tile, instead of the whole app. `unless_current`: a
        file whose layer this code installed whole before is left as it is (creating the macros
        took 0.2–0.4 s of every open, in every process that opens the file)."""
        fingerprint = layer_fingerprint()
        cur = self.cursor()
        if unless_current and cur.execute(queries.load("core/layer_installed")).fetchall() == [(fingerprint,)]:
            return []
        failed = []
        for name in queries.layer():
            try:
                cur.execute(queries.load(name))
            except duckdb.Error as e:
                log.error("semantic layer: %s not installed: %s", name, e)
                failed.append(name)
        if unless_current and not failed:
            cur.execute(queries.load("core/layer_record"),
                        {"fingerprint": fingerprint, "installed_at": datetime.now(timezone.utc)})
        return failed

    # ── snapshot for analysts ───────────────────────────────────────────────────────────────────
    def snapshot(self, dest: str | os.PathLike) -> Path:
        """Publish a consistent read-only copy of the database at `dest` (a .duckdb file): its
        schema (views, macros), then every table's rows in one transaction (one view of the data),
        without keys and indexes. The copy is written to a temporary file and renamed into place,
        so readers never see a half-written snapshot."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        with self._snapshot_lock:
            try:
                self._copy_to(tmp)
                os.replace(tmp, dest)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    leftover.unlink(missing_ok=True)
        return dest

    def interrupt_snapshot(self) -> None:
        """Cut a snapshot copy in progress short (the app is stopping: at the reference scale a copy
        runs ~20 s); `snapshot` then raises duckdb.InterruptException and leaves no file behind."""
        with self._snapshot_state:
            self._copy_interrupted = True  # see _raise_if_interrupted: interrupt() stops only a running query
            if self._copying is not None:
                try:
                    self._copying.interrupt()
                except duckdb.ConnectionException:
                    pass  # the copy ended meanwhile and closed its cursor

    def _raise_if_interrupted(self) -> None:
        if self._copy_interrupted:
            raise duckdb.InterruptException("the snapshot copy was interrupted")

    def _copy_to(self, tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        with self._raw_cursor() as cur:  # copies data out, changes none: the data version stays
            with self._snapshot_state:
                self._copying, self._copy_interrupted = cur, False
            db_name = self.source or cur.execute(queries.load("core/current_database")).fetchone()[0]
            listed = cur.execute(queries.load("core/snapshot_tables"), {"db": db_name}).fetchall()
            cur.execute(dynamic.attach_snapshot(str(tmp)))
            try:
                cur.execute(dynamic.copy_schema(db_name))
                cur.begin()
                try:
                    for (table,) in listed:
                        self._raise_if_interrupted()
                        cur.execute(dynamic.snapshot_table(db_name, table))
                    self._raise_if_interrupted()  # an interrupt between statements reaches no query
                    cur.commit()
                except BaseException:
                    cur.rollback()
                    raise
            finally:
                with self._snapshot_state:
                    self._copying = None
                cur.execute(queries.load("core/snapshot_detach"))
