"""The data version: a number per database file that moves whenever a committed write changes its
data, so cache keys built on it show new data at once (a new version is a new key).

One process owns the database (DESIGN.md), so "has the data changed?" is answered in process: every
committed write through a `VersionedCursor` moves the file's version to a fresh number. The numbers
come from one process-wide counter and are kept per file (DuckDB shares one instance per path, so
two Database objects on one file share a version), so a file closed and opened again never repeats
a version an old cache entry was keyed on."""
from __future__ import annotations

import functools
import itertools
import threading

import duckdb

_NUMBERS = itertools.count(1)
_versions: dict[str, int] = {}
_lock = threading.Lock()
# Statement kinds that cannot change data. Anything else (INSERT, UPDATE, DELETE, CREATE, COPY …)
# counts as a write once committed; counting a harmless statement too only costs one recompute.
_READS = {"SELECT", "EXPLAIN", "PRAGMA", "SET", "VARIABLE_SET", "TRANSACTION", "ATTACH", "DETACH",
          "PREPARE", "RELATION", "CALL", "LOGICAL_PLAN", "EXPORT"}


@functools.lru_cache(maxsize=1024)
def _statement_kinds(sql: str) -> tuple[str, ...]:
    """The statement types in `sql` (e.g. ('INSERT',)); SQL DuckDB cannot parse counts as a write."""
    try:
        return tuple(s.type.name for s in duckdb.extract_statements(sql))
    except duckdb.Error:
        return ("UNKNOWN",)


def _writes(sql: str) -> bool:
    return any(kind not in _READS for kind in _statement_kinds(sql))


def _transaction_word(sql: str) -> str | None:
    """'begin' / 'commit' / 'rollback' for transaction statements sent as SQL text, else None."""
    if _statement_kinds(sql) != ("TRANSACTION",):
        return None
    word = sql.strip().split(None, 1)[0].lower().rstrip(";")
    return {"start": "begin", "end": "commit", "abort": "rollback"}.get(word, word)


class VersionedCursor:
    """A DuckDB cursor that moves its database's data version after each committed write: at
    `commit()` (or `execute("commit")`) when the transaction wrote, or right after a write run in
    auto-commit mode. Reads never move it. Everything else is DuckDB's own cursor."""

    __slots__ = ("_raw", "_bump", "_in_transaction", "_wrote")

    def __init__(self, raw: duckdb.DuckDBPyConnection, bump):
        self._raw = raw
        self._bump = bump
        self._in_transaction = False
        self._wrote = False

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __enter__(self) -> "VersionedCursor":
        return self

    def __exit__(self, *exc) -> None:
        self._raw.close()

    def begin(self) -> "VersionedCursor":
        self._raw.begin()
        self._in_transaction, self._wrote = True, False
        return self

    def commit(self) -> "VersionedCursor":
        self._raw.commit()
        self._committed()
        return self

    def rollback(self) -> "VersionedCursor":
        """Roll the open transaction back; nothing to do when a failed commit has ended it already
        (DuckDB then says "no transaction is active", which would hide the commit's own error from
        every `except: rollback(); raise` in the code, e.g. a migration out of memory)."""
        try:
            self._raw.rollback()
        except duckdb.TransactionException as e:
            if "no transaction is active" not in str(e):
                raise
        finally:
            self._in_transaction, self._wrote = False, False
        return self

    def execute(self, sql, parameters=None) -> "VersionedCursor":
        self._raw.execute(sql, parameters)
        self._after(sql)
        return self

    def executemany(self, sql, parameters=None) -> "VersionedCursor":
        self._raw.executemany(sql, parameters)
        self._after(sql)
        return self

    def _after(self, sql) -> None:
        if not isinstance(sql, str):
            return  # a prepared statement object: no writer here uses one
        word = _transaction_word(sql)
        if word == "begin":
            self._in_transaction, self._wrote = True, False
        elif word == "commit":
            self._committed()
        elif word == "rollback":
            self._in_transaction, self._wrote = False, False
        elif _writes(sql):
            if self._in_transaction:
                self._wrote = True
            else:
                self._bump()  # auto-commit: the statement is already committed

    def _committed(self) -> None:
        if self._in_transaction and self._wrote:
            self._bump()
        self._in_transaction, self._wrote = False, False


def register(path: str) -> str:
    """The version key of a database file (its resolved path), registered with a first version;
    `":memory:"` gets a key nobody else gets (an in-memory database is its own)."""
    with _lock:
        key = path if path != ":memory:" else f":memory:{next(_NUMBERS)}"
        _versions.setdefault(key, next(_NUMBERS))
        return key


def current(key: str) -> int:
    with _lock:
        return _versions[key]


def bump(key: str) -> int:
    """Move the file's version to a fresh number and return it."""
    with _lock:
        version = _versions[key] = next(_NUMBERS)
        return version
