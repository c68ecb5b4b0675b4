-- What-if page: whether an optional table exists yet (twin_backtests is added by the backtest).
-- Grain: one row; n = 1 when a table named $table_name exists in the main schema, else 0.
-- Params: table_name.
select count(*) as n
from information_schema.tables
where table_schema = 'main' and table_name = $table_name::text
