-- DuckDB's own account of its memory, by component (buffer pool blocks of tables, hash tables,
-- indexes …), for the soak's memory probe (bench/memprobe). Grain: one row per tag in use.
select tag, memory_usage_bytes, temporary_storage_bytes
from duckdb_memory()
where memory_usage_bytes > 0 or temporary_storage_bytes > 0
order by memory_usage_bytes desc;
