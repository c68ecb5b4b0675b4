"""The DuckLake write retry (connectors.lake_writes.retrying) on a plain DuckDB connection: which
failures are retried and which are handed back at once. The lake itself is tested in
tests/test_ducklake.py (a real PostgreSQL catalog)."""
from __future__ import annotations

import time

import duckdb
import pytest

from connectors.lake_writes import retrying


def test_a_lake_write_on_an_invalidated_database_is_raised_at_once_for_a_new_connection():
    """DuckDB invalidates its database after an internal error (seen when the catalog stopped in the
    middle of a commit): no attempt on that connection can succeed, so the retry loop hands it to the
    caller at once (which opens the lake again) instead of failing attempt after attempt until its
    deadline; a commit that merely failed is still retried."""
    cur, calls = duckdb.connect().cursor(), []

    def invalidated():
        calls.append(1)
        raise duckdb.FatalException("database has been invalidated because of a previous fatal error")

    started = time.monotonic()
    with pytest.raises(duckdb.FatalException):
        retrying(cur, invalidated, retry_s=0.2, give_up_s=30)
    assert calls == [1] and time.monotonic() - started < 1

    def fails_once():
        calls.append(2)
        if calls.count(2) == 1:
            raise duckdb.TransactionException("commit failed: the catalog is away")
        return "ok"

    assert retrying(cur, fails_once, retry_s=0.01, give_up_s=30) == ("ok", 2)
