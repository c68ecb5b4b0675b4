"""The schema browser describes every column of every table and view of a fully migrated database,
from the migrations' own comments (queries/schema_docs.py), so a new column without a comment fails
here instead of showing a blank description in the SQL console."""
from __future__ import annotations

from queries import schema_docs
from tower.db import Database


def migrated_columns(tmp_path) -> dict[str, list[str]]:
    db = Database(tmp_path / "tower.duckdb")
    try:
        rows = db.df("select table_name, column_name from information_schema.columns "
                     "where table_schema = 'main' order by table_name, ordinal_position")
    finally:
        db.close()
    return rows.groupby("table_name", sort=True)["column_name"].apply(list).to_dict()


def test_every_column_of_every_table_and_view_has_a_description(tmp_path):
    columns = migrated_columns(tmp_path)
    assert {"orders", "orders_with_delivery", "csat_responses", "fx_rates"} <= set(columns)
    docs = schema_docs.load()
    undescribed = [f"{table}.{column}" for table, names in columns.items() for column in names
                   if not docs.get(table, schema_docs.TableDoc()).columns.get(column, "").strip()]
    assert undescribed == [], f"{len(undescribed)} columns without a description: {undescribed}"
    untitled = [t for t in columns if not docs.get(t, schema_docs.TableDoc()).description.strip()]
    assert untitled == []


def test_views_take_their_columns_meaning_from_the_tables_they_read_and_notes_win():
    docs = schema_docs.parse("""
-- t: a table
create table if not exists t (
    a  text,   -- the a
    b  text    -- the b
);
create table if not exists u (
    b  text,   -- u's b
    c  text    -- the c
);
alter table u add column if not exists d text;   -- the added d
-- v.renamed: c under another name
create or replace view v as
select t.*, u.c as renamed, u.d
from t
left join u using (b);
""")
    assert docs["u"].columns["d"] == "the added d"
    # parse() records what the view reads; load() then fills a, b (from t: read first) and d
    assert docs["v"].reads == ["t", "u"] and docs["v"].columns == {"renamed": "c under another name"}
    assert docs["t"].description == "a table"


def test_load_inherits_view_columns_from_the_first_table_read():
    docs = schema_docs.load()
    assert docs["orders_with_delivery"].columns["updated_at"] == docs["orders"].columns["updated_at"]
    assert docs["orders_with_delivery"].columns["carrier"] == docs["shipments"].columns["carrier"]
    assert docs["po_current"].columns["status"] == docs["purchase_orders"].columns["status"]
    assert "newest progress report" in docs["po_current"].columns["progress_at"]
    assert "ISO 4217" in docs["purchase_orders"].columns["currency"]
