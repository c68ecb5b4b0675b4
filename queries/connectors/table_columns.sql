-- table_columns: the columns of one table in the main schema, for typed staging casts.
-- Returns one row per column: column_name (text), data_type (text, DuckDB type name), in order.
select column_name, data_type
from information_schema.columns
where table_name = $table
  and table_schema = 'main'
  and table_catalog = current_database()
order by ordinal_position
