-- The name DuckDB gives the open database file (for COPY FROM DATABASE).
select current_database()
