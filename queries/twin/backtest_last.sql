-- Twin backtest: the metrics of the most recent run (what the What-if page shows as the twin's error).
-- Columns: as twin_backtests. No params.
select *
from twin_backtests
where ran_at = (select max(ran_at) from twin_backtests)
order by metric = 'lost_units' desc, metric = 'stockout_hours_total' desc, metric
