"""The [store] choice (tower.store) in any install: the embedded file stays the default, the catalog
DSN is a secret that the config file may not hold, and a missing DSN or extension says what to do."""
import duckdb
import pytest

from tower import config, store


def test_the_embedded_file_stays_the_default():
    assert store.settings(config.load().raw).kind == "duckdb"


def test_a_catalog_dsn_in_the_config_file_is_refused(tmp_path):
    with pytest.raises(store.LakeUnavailable, match="secret"):
        store.settings({"store": {"kind": "ducklake", "catalog_dsn": "host=db password=hunter2"}})
    with pytest.raises(store.LakeUnavailable, match="kind"):
        store.settings({"store": {"kind": "lakehouse"}})


def test_the_dsn_comes_from_the_environment_or_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("TOWER_STORE_CATALOG_DSN", raising=False)
    secrets = tmp_path / "secrets.toml"
    with pytest.raises(store.LakeUnavailable, match="TOWER_STORE_CATALOG_DSN"):
        store.catalog_dsn(secrets)
    secrets.write_text('[store]\ncatalog_dsn = "dbname=lake host=/tmp"\n')
    assert store.catalog_dsn(secrets) == "dbname=lake host=/tmp"
    monkeypatch.setenv("TOWER_STORE_CATALOG_DSN", "dbname=other")
    assert store.catalog_dsn(secrets) == "dbname=other"


@pytest.mark.skipif(not duckdb.__version__.startswith("2."), reason="checks the default DuckDB 2.x install")
def test_duckdb_2_says_why_there_is_no_lake():
    with pytest.raises(store.LakeUnavailable, match="pip install -r requirements-ducklake.txt|1.5.5"):
        store.extension_path("ducklake")
