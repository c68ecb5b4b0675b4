-- How many of the twin's tables added to 016_twin later exist in this database (2 = both).
-- Columns: present.
select count(*) as present
from information_schema.tables
where table_name in ('twin_scenarios', 'twin_runs')
