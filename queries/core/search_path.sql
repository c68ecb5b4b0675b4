-- Where a cursor looks up unqualified names (the DuckLake store: the lake first, then memory).
set search_path = $path
