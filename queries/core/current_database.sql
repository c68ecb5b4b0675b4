-- The name DuckDB gives the open database file (the analyst snapshot copies its tables).
select current_database()
