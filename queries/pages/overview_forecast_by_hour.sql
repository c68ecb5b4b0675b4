-- Overview: units forecast per UTC hour of [start, end), the whole window, hours still ahead
--   included (a plan is known in advance). Sales and their ratio to this forecast come from the
--   sales_vs_forecast KPI (queries/kpi/sales_vs_forecast.sql), which stops at now.
-- Params: start, end, now (end defaults to now), market (NULL = all).
-- Returns: bucket_start, forecast_units.
select period_start as bucket_start, sum(units) as forecast_units
from forecasts
where period_start >= date_trunc('hour', coalesce($start::timestamptz, $now::timestamptz - interval 48 hour))
  and period_start < coalesce($end::timestamptz, $now::timestamptz)
  and ($market::text is null or market = $market::text)
group by period_start
order by period_start
