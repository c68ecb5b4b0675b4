"""Downloads are named after what they hold and when: the retro's scorecard / report / data pack and
the SQL console's result (example name or first words of the query), never a generic tower_query.*."""
from datetime import datetime, timedelta, timezone

from tests.test_sql_console import app_db, page, run_in_page  # noqa: F401  (fixtures)
from tower.ui import downloads

AT = datetime(2026, 12, 4, 9, 30, 41, tzinfo=timezone.utc)


def test_file_names_say_what_and_when():
    assert downloads.file_name("retro", "scorecard", at=AT, ext="csv") == "tower_retro_scorecard_2026-12-04T0930Z.csv"
    # any zone is written as UTC; unsafe characters never reach the file system
    local = AT.astimezone(timezone(timedelta(hours=8)))
    assert downloads.file_name("retro", "report", "Member Day/11.24 <b>", at=local, ext=".html") == \
        "tower_retro_report_member-day-11-24-b_2026-12-04T0930Z.html"
    assert downloads.file_name("sql", "", None, at=AT, ext="parquet") == "tower_sql_2026-12-04T0930Z.parquet"
    assert len(downloads.file_name("sql", "x" * 500, at=AT, ext="csv")) < 80


def test_sql_downloads_are_named_after_the_example_or_the_first_words():
    example_sql = "-- orders per day\nselect 1"
    assert downloads.sql_label(example_sql, "examples/orders_per_day", example_sql) == "orders_per_day"
    assert downloads.sql_label(example_sql + " + 1", "examples/orders_per_day", example_sql) == "select-1-1"
    assert downloads.sql_label("-- top\n/* skus */ SELECT sku, count(*) FROM order_lines GROUP BY 1") == \
        "SELECT-sku-count-FROM"
    assert downloads.file_name("sql", downloads.sql_label("select market from orders"), at=AT, ext="csv") == \
        "tower_sql_select-market-from-orders_2026-12-04T0930Z.csv"
    assert downloads.sql_label("   ") == "query"


def test_console_page_names_its_downloads_after_the_example_it_ran(app_db):  # noqa: F811
    at = page()
    at.selectbox(key="sql_console.example").select("examples/orders_per_day").run()
    at = at.button(key="sql_console.load").click().run()
    at = at.button(key="sql_console.run").click().run()
    assert not at.exception and len(at.get("download_button")) == 2
    label, _ran_at = at.session_state["sql_console.ran"]
    assert label == "orders_per_day"
    at = run_in_page(at, "select market, count(*) as orders from orders group by all")
    assert at.session_state["sql_console.ran"][0] == "select-market-count-as"
