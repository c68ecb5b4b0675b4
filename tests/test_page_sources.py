"""Data sources page in AppTest, through app.py: the numbers equal sync_runs, failed and stale
sources are impossible to miss, the source filter narrows the runs, and the empty state."""
import re
from datetime import datetime, timedelta, timezone

from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, populated_db, sample_rows, tower_env  # noqa: F401


def sources_page(**query):
    at = open_app("pages/sources.py", **query)
    assert not at.exception
    assert at.title[-1].value in ("Data sources", "数据源")
    return at


def latest_runs(rows):
    latest = {}
    for r in sorted(rows["sync_runs"], key=lambda r: r["started_at"]):
        latest[r["source"]] = r
    return latest


def test_status_and_runs_equal_the_sync_runs_table(tower_env, populated_db):
    tower_env(populated_db.path)
    at = sources_page()
    status, runs = at.dataframe[0].value, at.dataframe[1].value
    latest = latest_runs(populated_db.rows)
    assert sorted(status["Source"]) == sorted(latest)
    for row in status.itertuples(index=False):
        assert row[status.columns.get_loc("Rows written")] == latest[row[0]]["rows_written"]
        assert row[status.columns.get_loc("Rows fetched")] == latest[row[0]]["rows_fetched"]
        assert row[status.columns.get_loc("Health")] == "🟢 ok"
    assert len(runs) == populated_db.count("sync_runs")
    assert sorted(runs["Run"]) == sorted(r["run_id"] for r in populated_db.rows["sync_runs"])
    assert {m.label: m.value for m in at.metric} == {
        "Sources": "3", "Failed or stale": "0", "Runs recorded": str(populated_db.count("sync_runs"))}
    assert not at.error


def test_failed_source_is_red_and_named_with_its_error(tower_env, failing_db):
    tower_env(failing_db.path)
    at = sources_page()
    page_banners = [e.value for e in at.error if e.value.startswith("shopify: the last sync FAILED")]
    assert len(page_banners) == 1 and "invalid access token" in page_banners[0]
    assert any("Data is stale" in e.value for e in at.error), "the frame's banner too"
    status = at.dataframe[0].value
    first = status.iloc[0]
    assert (first["Source"], first["Health"], first["Last status"]) == ("shopify", "🔴 failed", "failed")
    assert first["Rows written"] == 0 and "401" in first["Error"]
    # the last good sync is still reported (it is what the data on screen comes from)
    assert "ago" in first["Last good sync"]
    assert {m.label: m.value for m in at.metric}["Failed or stale"] == "1"


def test_stale_source_without_failure(tower_env, tmp_path):
    now = datetime.now(timezone.utc)
    rows = sample_rows(now)
    for r in rows["sync_runs"]:
        if r["source"] == "aftership":  # its last good run was 20 minutes ago: 60 s × 3 long passed
            r["started_at"] -= timedelta(minutes=20)
            r["finished_at"] -= timedelta(minutes=20)
    tower_env(build_db(tmp_path / "stale.duckdb", rows))
    at = sources_page()
    banners = [e.value for e in at.error if e.value.startswith("aftership: STALE")]
    # 20 min + 30 s before the rows were built; a slow machine may already be past 21 min
    assert len(banners) == 1 and re.search(r"no good sync 2[01] min ago", banners[0]), banners
    assert at.dataframe[0].value.iloc[0]["Health"] == "🔴 stale"


def test_filter_by_source_narrows_the_tables(tower_env, failing_db):
    tower_env(failing_db.path)
    at = sources_page()
    at.selectbox(key="sources_filter").set_value("supplier_portal").run()
    assert not at.exception
    status, runs = at.dataframe[0].value, at.dataframe[1].value
    assert list(status["Source"]) == ["supplier_portal"]
    assert set(runs["Source"]) == {"supplier_portal"}
    assert len(runs) == failing_db.count("sync_runs", source="supplier_portal")
    assert not [e for e in at.error if e.value.startswith("shopify:")], "page banners follow the filter"


def test_empty_database_explains_what_to_do(tower_env, empty_db):
    tower_env(empty_db.path)
    at = sources_page()
    assert any("No data source is configured" in i.value for i in at.info)
    assert not at.dataframe


def test_sources_page_in_chinese(tower_env, failing_db):
    tower_env(failing_db.path)
    at = sources_page(lang="zh")
    assert at.title[-1].value == "数据源"
    assert "状态" in at.dataframe[0].value.columns
    assert at.dataframe[0].value.iloc[0]["状态"] == "🔴 失败"
    assert any(e.value.startswith("shopify：最近一次同步失败") for e in at.error)
