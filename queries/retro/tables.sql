-- tables: names of the tables in the main schema, so the retro can tell "no alerts table yet"
-- (alerts migration absent) from "no alerts".
-- grain: one row per table. returns: table_name
select table_name
from information_schema.tables
where table_schema = 'main'
order by table_name
