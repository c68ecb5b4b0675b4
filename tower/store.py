"""The DuckLake store: Tower's tables on DuckLake (a PostgreSQL catalog, Parquet data on a shared path
or S3) so connector workers on several hosts write and several app servers read. Selected by
`[store] kind = "ducklake"` in tower.toml; the embedded DuckDB file (tower.db) stays the default.

Offline by construction: DuckDB would download the `ducklake` and `postgres` extensions at run time;
here they come from the registry wheels `duckdb-extension-ducklake` / `duckdb-extension-postgres-scanner`
whose version equals DuckDB's (docs/ducklake.md) and are loaded by path, never fetched.

The catalog DSN is a secret: env TOWER_STORE_CATALOG_DSN or `[store] catalog_dsn` in
.streamlit/secrets.toml, never the config file, never logged."""
from __future__ import annotations

import importlib.util
import os
import time
import tomllib
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import queries
from queries import lake
from tower.db import Database, apply_engine_settings

ATTACH_ATTEMPTS = 8
LAKE = "lake"  # the attached lake's database name: a lake store's `Database.source` (see is_lake)
EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner"}


class LakeUnavailable(RuntimeError):
    """The DuckLake store cannot be opened (extension wheels missing, no catalog DSN, bad settings)."""


class StoreSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["duckdb", "ducklake"] = "duckdb"
    data_path: str = "data/lake/"      # Parquet files: a shared folder or s3://bucket/prefix/
    catalog: Literal["postgres"] = "postgres"
    # keep the derived tables (rollups, current state) in step with what workers commit: one
    # process per lake (connectors/lake_derived.py), every `maintain_every_s` seconds
    maintain: bool = True
    maintain_every_s: float = Field(5.0, gt=0)


def settings(raw: dict) -> StoreSettings:
    """The [store] table of a loaded config (`Config.raw`), validated; secrets are refused in it."""
    table = raw.get("store", {})
    if "catalog_dsn" in table:
        raise LakeUnavailable("[store] catalog_dsn is a secret: put it in .streamlit/secrets.toml "
                              "[store] or the environment (TOWER_STORE_CATALOG_DSN)")
    try:
        return StoreSettings(**table)
    except ValidationError as e:
        raise LakeUnavailable(f"[store] is invalid: {e.errors()[0]['loc']} {e.errors()[0]['msg']}") from None


def catalog_dsn(secrets_path: Path) -> str:
    """The catalog's libpq DSN from the environment or secrets.toml."""
    dsn = os.environ.get("TOWER_STORE_CATALOG_DSN")
    if not dsn and secrets_path.exists():
        with secrets_path.open("rb") as f:
            dsn = tomllib.load(f).get("store", {}).get("catalog_dsn")
    if not dsn:
        raise LakeUnavailable("no DuckLake catalog DSN: set TOWER_STORE_CATALOG_DSN or [store] "
                              "catalog_dsn in .streamlit/secrets.toml")
    return str(dsn)


def extension_path(name: str) -> Path:
    """The extension binary shipped by its registry wheel, for exactly this DuckDB version."""
    spec = importlib.util.find_spec(EXTENSIONS[name])
    if spec is None or not spec.submodule_search_locations:
        raise LakeUnavailable(f"the {name} extension is not installed: pip install -r requirements-ducklake.txt")
    path = Path(spec.submodule_search_locations[0]) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise LakeUnavailable(f"{EXTENSIONS[name]} does not match DuckDB {duckdb.__version__} "
                              "(extension wheels exist up to 1.5.5): see docs/ducklake.md")
    return path


def open_lake(dsn: str, data_path: str, engine: dict | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and Tower's tables present on it.

    The migrations run on the in-memory database (the one schema source); each table's columns are
    then created on the lake if missing (DuckLake keeps no keys: writers merge on natural keys).
    The in-memory tables stay empty: they hold the schema's macros' bindings, the lake the rows."""
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    apply_engine_settings(con, engine or {})  # `[database] memory_limit` etc. hold on the lake too
    for name in EXTENSIONS:
        con.execute(lake.load_extension(str(extension_path(name))))
    migrate_in_memory(con)
    for attempt in range(ATTACH_ATTEMPTS):
        try:
            _attach_and_create(con, dsn, data_path)
            break
        except duckdb.Error:
            # several workers starting on an empty catalog race to create it (or the same table):
            # the loser's statement fails and the next attempt finds it there
            if attempt == ATTACH_ATTEMPTS - 1:
                con.close()
                raise
            time.sleep(0.2 * (attempt + 1))
    return con


def _attach_and_create(con: duckdb.DuckDBPyConnection, dsn: str, data_path: str) -> None:
    if not con.execute(lake.is_attached()).fetchone()[0]:
        con.execute(lake.attach(f"postgres:{dsn}", data_path))
    con.begin()
    try:
        for (table,) in con.execute(lake.schema_tables()).fetchall():
            con.execute(lake.table_shape(table))
        con.execute(lake.derived_mark_table())
        con.execute(lake.write_lock_table())
        con.execute(lake.seed_write_lock())
        _views_on_lake(con)
        con.commit()
    except duckdb.Error:
        con.rollback()
        raise


def _views_on_lake(con: duckdb.DuckDBPyConnection) -> None:
    """The migrations' views (orders_with_delivery, stock_current, …) created on the lake too, where
    cursors find them first; only those missing or changed, so an open writes nothing new."""
    on_lake = dict(con.execute(lake.views("lake")).fetchall())
    stale = [sql for name, sql in con.execute(lake.views("memory")).fetchall() if on_lake.get(name) != sql]
    if not stale:
        return
    con.execute(lake.use("lake"))
    try:
        for sql in stale:
            con.execute(lake.replace_view(sql))
    finally:
        con.execute(lake.use("memory"))


def migrate_in_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Apply every schema migration to the connection's own in-memory database: the lake's column
    source, and home of the macros some migrations define."""
    for name in queries.names("schema"):
        con.execute(queries.load(name))


def database(cfg) -> Database:
    """The app server's store when `[store] kind = "ducklake"`: a tower.db.Database whose cursors
    look in the lake first (`lake.main,memory.main`), so plain table names read and write the lake
    while macros (semantic layer, migrations) come from memory and resolve tables when called."""
    chosen = settings(cfg.raw)
    dsn = catalog_dsn(cfg.secrets_path)
    con = open_lake(dsn, chosen.data_path, cfg.engine)
    # the snapshot for analysts goes where the file's would; local Parquet is the only other folder
    dirs = [cfg.snapshot_path.parent] + ([] if "://" in chosen.data_path else [Path(chosen.data_path)])
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    return Database.over_connection(con, cfg.db_path, source=LAKE, allowed_dirs=dirs,
                                    search_path="lake.main,memory.main",
                                    reopen=lambda: open_lake(dsn, chosen.data_path, cfg.engine))


def open_database(cfg) -> Database:
    """The store a config names: the DuckLake store (`[store] kind = "ducklake"`) or the embedded file."""
    return database(cfg) if settings(cfg.raw).kind == "ducklake" else Database.for_config(cfg)


def is_lake(db) -> bool:
    """Whether `db` (a tower.db.Database) is the DuckLake store: no keys, no sequences, other hosts
    writing too (writers choose their statements by it: connectors/run_writers.py)."""
    return getattr(db, "source", None) == LAKE
