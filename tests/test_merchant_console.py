"""A merchant user's SQL console (tower.sql_console.run with merchant=…) on the synced sandbox world:
every way to reach another merchant's rows — plain selects, joins, CTEs, recursive CTEs, table
functions, catalog views, duckdb_*() functions, ATTACH of the full snapshot, PRAGMA, KPI macros asked
for another merchant — returns only the merchant's rows or is refused in words. The console child
opens the merchant's own database file, so those rows are not there to find."""
from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tower import sql_console
from tower.auth.policy import Identity
from tower.db import Database

ME, OTHERS = "nordic-nest", ("green-living", "casa-verde")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
STOPPED = (sql_console.Refused, sql_console.QueryFailed)


@pytest.fixture(scope="module")
def world(sandbox_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("merchant_console")
    path = sandbox_db.copy_to(folder)
    with duckdb.connect(str(path), read_only=True) as con:
        def ids(merchants):
            con.execute("create or replace temp table who as select unnest($m::text[]) as merchant_id",
                        {"m": list(merchants)})
            rows = con.execute("""
                select order_id from orders where merchant_id in (from who)
                union select tracking_number from shipments where order_id in
                    (select order_id from orders where merchant_id in (from who))
                union select shipment_id from shipments where order_id in
                    (select order_id from orders where merchant_id in (from who))
                union select return_id from returns where order_id in
                    (select order_id from orders where merchant_id in (from who))
                union select response_id from nps_responses where merchant_id in (from who)
                union select response_id from csat_responses where merchant_id in (from who)""").fetchall()
            return {str(r[0]) for r in rows if r[0]} | set(merchants)
        theirs, mine = ids(OTHERS), ids([ME])
        counts = dict(con.execute("select merchant_id, count(*) from orders group by 1").fetchall())
    db = Database(path, extra_dirs=[folder / "snapshot"])
    yield db, folder, theirs, mine, counts
    db.close()


def console(world, sql, merchant=ME, binds=None):
    """Run `sql` as the console page does, with `binds` as the caller's $parameters."""
    db, folder, *_ = world
    who = Identity("m-1", "Merchant analyst", frozenset({"analyst"}), merchant=merchant)
    return sql_console.run(db, sql, who=who, per_minute=0, snapshot_path=folder / "snapshot" / "tower.duckdb",
                           params={"start": None, "end": None, "now": None, **(binds or {})}, time_limit_s=20)


def leaked(world, result) -> set[str]:
    theirs = world[2]
    return set(TOKEN.findall(result.df.to_csv(index=False))) & theirs


# (what it tries, SQL): each must return only the merchant's rows or be refused
ATTEMPTS = [
    ("every order", "select * from orders"),
    ("another shop by name", "select * from orders where merchant_id = 'green-living'"),
    ("every shop's id", "select distinct merchant_id from orders union all select merchant_id from merchants"),
    ("parcels joined to orders", "select s.*, o.merchant_id from shipments s left join orders o using (order_id)"),
    ("checkpoints of every parcel", "select t.* from tracking_events t full join shipments s using (shipment_id)"),
    ("returns, answers", ("select r.return_id, n.response_id, c.response_id from returns r "
                          "full join nps_responses n using (order_id) full join csat_responses c using (order_id)")),
    ("a CTE", "with x as (select * from orders) select * from x where merchant_id <> 'nordic-nest'"),
    ("a materialized CTE", "with x as materialized (from orders_with_delivery) from x"),
    ("a recursive CTE", ("with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) "
                         "select r.n, o.order_id from r, orders o")),
    ("query_table", "select * from query_table('orders')"),
    ("query_table of a list", "select * from query_table(['orders', 'orders'])"),
    ("information_schema", "select table_name from information_schema.tables"),
    ("duckdb_tables sizes", "select table_name, estimated_size from duckdb_tables()"),
    ("duckdb_columns", "select * from duckdb_columns()"),
    ("duckdb_databases", "select * from duckdb_databases()"),
    ("duckdb_settings", "select * from duckdb_settings()"),
    ("pg_catalog", "select * from pg_catalog.pg_database"),
    ("read_csv of the data folder", "select * from read_csv('*.csv')"),
    ("read_parquet", "select * from read_parquet('snapshot/*.parquet')"),
    ("glob", "select * from glob('**')"),
    ("read the full snapshot file", "select * from read_blob('snapshot/tower.duckdb')"),
    ("ATTACH the full snapshot", "attach 'snapshot/tower.duckdb' as full (read_only); select * from full.orders"),
    ("PRAGMA database_list", "pragma database_list"),
    ("PRAGMA show_tables", "pragma show_tables"),
    ("a setting", "select current_setting('allowed_directories')"),
    ("SET to open files", "set enable_external_access = true; select * from read_csv('x.csv')"),
    ("KPI for another merchant", "select * from kpi_nps('-infinity', now(), merchant_filter := 'green-living')"),
    ("KPI for everyone by merchant", "select * from kpi_on_time_rate('-infinity', now(), dimension := 'merchant')"),
    ("KPI facts", "select * from order_facts('-infinity', now(), 'casa-verde', null, null)"),
    ("window macro", "select * from orders_in_window('-infinity'::timestamptz, now(), 'green-living', null, null)"),
    ("survey macro", ("select * from survey_answers_about_window('nps_responses', '-infinity'::timestamptz, "
                      "now(), null, null, null)")),
    ("$merchant bound by the caller", "select * from orders where merchant_id = $merchant"),
    ("EXPLAIN ANALYZE", "explain analyze select * from orders"),
    ("other catalog", "select * from tower.orders"),
    ("system catalog", "select * from system.main.orders"),
]


@pytest.mark.parametrize("what,sql", ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_no_way_to_another_merchants_rows(world, what, sql):
    try:
        result = console(world, sql, ME, {"merchant": "green-living"})
    except STOPPED as e:
        assert str(e).strip() and "Traceback" not in str(e), what  # refused in words
        return
    assert not leaked(world, result), f"{what} reached other merchants' rows"
    text = result.df.to_csv(index=False)
    for other in OTHERS:
        assert other not in text, what


def test_the_merchants_own_rows_are_all_there(world):
    counts = world[4]
    result = console(world, "select merchant_id, count(*) as n from orders group by 1")
    assert result.df.to_dict("records") == [{"merchant_id": ME, "n": counts[ME]}]
    sizes = console(world, "select table_name, estimated_size from duckdb_tables() "
                           "where table_name in ('suppliers', 'purchase_orders', 'stock_observations')")
    assert set(sizes.df["estimated_size"]) <= {0}
    ids = console(world, "select order_id from orders union all select tracking_number from shipments")
    assert set(ids.df["order_id"].astype(str)) <= world[3] and len(ids.df) > 100
    # a merchant's own $merchant is forced, whatever the caller bound
    forced = console(world, "select $merchant as m", ME, {"merchant": "x"})
    assert forced.df["m"].tolist() == [ME]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=st.one_of(st.sampled_from([ME, *OTHERS]), st.text(min_size=1, max_size=24)),
       other=st.one_of(st.sampled_from([ME, *OTHERS]), st.text(max_size=24)))
def test_any_scope_sees_only_its_own_merchant(world, scope, other):
    counts = world[4]
    sql = ("select 'orders' as t, merchant_id from orders union all select 'nps', merchant_id from nps_responses "
           "union all select 'csat', merchant_id from csat_responses union all "
           "select 'kpi', cast(n as text) from kpi_nps('-infinity', now(), merchant_filter := $other)")
    result = console(world, sql, scope, {"other": other})
    df = result.df
    assert set(df[df["t"] != "kpi"]["merchant_id"]) <= {scope}
    assert len(df[df["t"] == "orders"]) == counts.get(scope, 0)
    kpi_n = df[df["t"] == "kpi"]["merchant_id"].astype(float).sum()
    if other != scope:
        assert kpi_n == 0  # asking the KPI about another merchant finds nothing to count


def test_the_console_never_opens_the_full_snapshot(world):
    result = console(world, "select current_database() as db")
    assert result.df["db"].tolist() != ["tower"]
    full = console(world, "select count(*) as n from orders", merchant=None)
    assert full.df["n"].tolist() == [sum(world[4].values())]  # an unscoped analyst still sees all
    mine = console(world, "select count(*) as n from orders")
    assert mine.df["n"].tolist() == [world[4][ME]]
