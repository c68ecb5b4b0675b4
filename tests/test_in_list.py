"""queries.dynamic.in_list: a list of keys bound as that many parameters (so DuckDB can use a key's
index), or as one list past IN_LIST_MAX; the same rows either way, and values never become SQL."""
from __future__ import annotations

import duckdb
import pytest

from queries.dynamic import IN_LIST_MAX, in_list

SQL = "select count(*) from (select 'o' || range::varchar as id from range(5000)) where id in ({ids})"


@pytest.mark.parametrize("n", [0, 1, 3, IN_LIST_MAX, IN_LIST_MAX + 1, 4000])
def test_any_number_of_keys_finds_exactly_those_rows(n):
    sql, params = in_list(SQL, {}, ids=[f"o{i}" for i in range(n)])
    assert ("unnest" in sql) == (n > IN_LIST_MAX)  # one list parameter only past the limit
    assert duckdb.connect().execute(sql, params).fetchone()[0] == n


def test_keys_stay_values_never_sql():
    evil = "o1') or (1=1"
    sql, params = in_list(SQL, {"kept": 1}, ids=[evil, "o2"])
    assert evil not in sql and params["kept"] == 1
    assert duckdb.connect().execute(sql.replace("where", "where $kept = 1 and"), params).fetchone()[0] == 1
