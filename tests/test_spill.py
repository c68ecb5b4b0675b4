"""DuckDB's resource limits from `[database]`: a query that needs more than `memory_limit` spills to
`temp_directory` and answers, where the same query without a place to spill fails; bad limits are
refused with the field named."""
import textwrap

import duckdb
import pytest

from tower import config as config_mod
from tower.db import Database

ROWS = 3_000_000  # ~200 MB of distinct 32-character keys to group: well past a 64 MB limit


def config(tmp_path, extra: str):
    path = tmp_path / "tower.toml"
    path.write_text(textwrap.dedent(f"""
        [database]
        path = "data/tower.duckdb"
        snapshot = "data/snapshot/tower.duckdb"
        {extra}
    """))
    return config_mod.load(path)


def distinct_keys(db: Database) -> int:
    with db.cursor() as cur:
        cur.execute("create or replace table big as select md5(i::varchar) k from range($n) r(i)", {"n": ROWS})
        return cur.execute("select count(*) from (select k, count(*) from big group by k)").fetchone()[0]


def test_a_query_past_the_memory_limit_spills_to_the_temp_directory_and_answers(tmp_path):
    cfg = config(tmp_path, 'memory_limit = "64MB"\ntemp_directory = "spill"\nthreads = 2')
    assert cfg.engine == {"memory_limit": "64MB", "temp_directory": str(tmp_path / "spill"), "threads": 2}
    db = Database.for_config(cfg)
    try:
        with db.cursor() as cur:
            limit, temp = cur.execute("select current_setting('memory_limit'), "
                                      "current_setting('temp_directory')").fetchone()
        assert limit == "61.0 MiB" and temp == str(tmp_path / "spill")
        assert distinct_keys(db) == ROWS
        with db.cursor() as cur:  # the limit is locked with the rest of the hardening
            with pytest.raises(duckdb.Error):
                cur.execute("set memory_limit = '8GB'")
    finally:
        db.close()


def test_without_a_place_to_spill_the_same_query_runs_out_of_memory(tmp_path):
    """The control: the query above does not fit in 64 MB, so the spill is what made it answer."""
    db = Database(tmp_path / "data" / "tower.duckdb", engine={"memory_limit": "64MB", "temp_directory": ""})
    try:
        with pytest.raises(duckdb.OutOfMemoryException):
            distinct_keys(db)
    finally:
        db.close()


@pytest.mark.parametrize("line, message", [
    ('memory_limit = "lots"', r"\[database\] memory_limit must be a size such as \"4GB\""),
    ("threads = 0", r"\[database\] threads must be >= 1"),
    ('max_temp_directory_size = "9 parsecs"', r"\[database\] max_temp_directory_size"),
])
def test_a_bad_limit_is_refused_naming_the_field(tmp_path, line, message):
    with pytest.raises(config_mod.ConfigError, match=message):
        config(tmp_path, line)


def test_the_environment_sets_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWER_DATABASE__MEMORY_LIMIT", "2GB")
    assert config(tmp_path, "").engine == {"memory_limit": "2GB"}


def test_an_app_server_caps_duckdb_by_default(tmp_path):
    """Unset, DuckDB takes 80 % of RAM and its buffer pool keeps every block a snapshot copy read:
    the app server's own default keeps it to its share of a 1.5 GB server (issue 15)."""
    cfg = config(tmp_path, "")
    assert cfg.engine == {"memory_limit": config_mod.DEFAULT_MEMORY_LIMIT}
    db = Database.for_config(cfg)
    try:
        limit = db.df("select current_setting('memory_limit') as m")["m"].iloc[0]
        assert limit.endswith("MiB") and 450 <= float(limit.split()[0]) <= 512  # DuckDB shows 512MB in MiB
    finally:
        db.close()

