-- DuckDB's parse tree of one statement ($sql) as JSON, for the console's read-only check.
select json_serialize_sql($sql)
