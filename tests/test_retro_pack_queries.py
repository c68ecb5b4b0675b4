"""The retro data pack's queries (queries/retro/pack_*.sql): every table a sync fills has one, each
returns exactly its table's columns, the event window of the synced sandbox gives rows for every
fact table, and the window and filters cut what they say they cut."""
from __future__ import annotations

import re
from datetime import timedelta

import duckdb
import pytest

import queries
from connectors.testing import TABLE_KEYS

PACKS = sorted(n.split("/pack_", 1)[1] for n in queries.names("retro") if "/pack_" in n)
# Tables whose pack is cut to the window (the others are reference data, shipped whole).
WINDOWED = {"orders", "order_lines", "shipments", "tracking_events", "stock_observations", "returns",
            "nps_responses", "csat_responses", "forecasts", "purchase_orders", "po_progress", "events"}


def run(con, table: str, **params):
    sql = queries.load(f"retro/pack_{table}")
    used = set(re.findall(r"\$(\w+)", sql))
    values = {"merchant": None, "channel": None, "market": None, **params}
    return con.execute(sql, {k: v for k, v in values.items() if k in used}).df()


@pytest.fixture(scope="module")
def con(sandbox_db):
    con = duckdb.connect(str(sandbox_db.path), read_only=True)
    con.execute("set timezone = 'UTC'")
    yield con
    con.close()


@pytest.fixture(scope="module")
def window(sandbox_db):
    """A day around the synced moment (the member-day event is under way)."""
    return {"start": sandbox_db.now - timedelta(hours=24), "end": sandbox_db.now}


def test_every_synced_table_has_a_pack_query():
    assert set(TABLE_KEYS) <= set(PACKS), set(TABLE_KEYS) - set(PACKS)


@pytest.mark.parametrize("table", [t for t in PACKS if t not in ("alerts",)])
def test_each_pack_returns_its_tables_columns_and_fact_tables_have_rows(con, window, table):
    frame = run(con, table, **window)
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = ? "
        "order by ordinal_position", [table]).fetchall()]
    assert list(frame.columns) == columns
    if table in TABLE_KEYS:
        assert len(frame) > 0, f"pack_{table} is empty for a day of the synced sandbox"


def test_windowed_packs_keep_only_the_window_and_honour_the_filters(con, window):
    short = {"start": window["end"] - timedelta(hours=2), "end": window["end"]}
    for table in WINDOWED:
        assert len(run(con, table, **short)) <= len(run(con, table, **window)), table
    # answers and returns: in the window, or about an order placed in it
    orders = set(run(con, "orders", **window).order_id)
    for table in ("csat_responses", "nps_responses", "returns"):
        frame = run(con, table, **window)
        inside = frame.created_at.between(window["start"], window["end"], inclusive="left")
        assert (inside | frame.order_id.isin(orders)).all(), table
    us = run(con, "csat_responses", **window, market="US")
    assert len(us) and set(us.market) == {"US"}
    assert set(run(con, "forecasts", **window, market="DE").market) == {"DE"}
    returns_us = run(con, "returns", **window, market="US")
    markets = con.execute("select distinct market from orders where order_id in "
                          "(select unnest(?::text[]))", [list(returns_us.order_id)]).fetchall()
    assert markets == [("US",)]
