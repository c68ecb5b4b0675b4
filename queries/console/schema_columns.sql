-- schema_columns: every column of every user table and view in the live database, for the
-- SQL console's schema browser (descriptions are joined in Python from the schema files' comments).
-- Grain: one row per (table_name, column_name). Columns: table_name, table_kind (table | view),
-- column_name, data_type, column_index (1-based position). No filter parameters.
with relations as (
    select table_name, 'table' as table_kind
    from duckdb_tables()
    where database_name = current_database() and schema_name = 'main' and not internal
    union all
    select view_name, 'view'
    from duckdb_views()
    where database_name = current_database() and schema_name = 'main' and not internal
),

columns as (
    select table_name, column_name, data_type, column_index
    from duckdb_columns()
    where database_name = current_database() and schema_name = 'main'
),

final as (
    select r.table_name, r.table_kind, c.column_name, c.data_type, c.column_index
    from relations r
    join columns c using (table_name)
    where r.table_name <> 'schema_migrations'
)

select * from final
order by table_kind, table_name, column_index
