-- The base tables of database $db the analyst snapshot copies (tower.db.snapshot).
select table_name
from duckdb_tables()
where database_name = $db and schema_name = 'main' and not internal and not temporary
order by table_name
