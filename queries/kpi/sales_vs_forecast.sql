-- name: sales_vs_forecast
-- label: Sales vs forecast
-- label_zh: 销量对比预测
-- definition: Units sold in the window ÷ units forecast for the same time, in percent (forecast
--   hours cut to the part inside the window). 150% is the surge trigger.
-- definition_zh: 窗口内售出件数 ÷ 同期预测件数（预测小时按落在窗口内的部分折算），以百分比表示；150% 为激增触发线。
-- unit: pct
-- grain: one row for the window [start, min(end, now)); all SKUs, forecast per sku × market × hour
-- better: higher
-- format: {:.0f}%
-- dimensions: market, sku
-- buckets: hour, day (the forecast prorated to the elapsed part of each bucket)
create or replace macro kpi_sales_vs_forecast(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
with sold as (
    -- units from the hourly rollups + the window's edges (line_units in _facts.sql; same as line_facts)
    select dimension_value, bucket_start, units
    from line_units(window_start, as_of, null, null, market_filter, null, dimension, bucket, kpi_raw_only())
),

forecast as (
    -- each forecast hour counts for the part of it inside [window_start, as_of); without a SKU
    -- breakdown from rollup_forecast_hours (all SKUs per period and market), else from forecasts
    select
        kpi_group(dimension, null, null, f.market, null, null, null, f.sku) as dimension_value,
        kpi_bucket(bucket, f.period_start) as bucket_start,
        sum(f.units * date_diff('microsecond', greatest(f.period_start, window_start),
            least(f.period_start + interval 1 hour, as_of)) / 3600e6) as units
    from (
        select sku, market, period_start, units from forecasts
        where dimension is not distinct from 'sku' or kpi_raw_only()
        union all
        select null, market, period_start, units from rollup_forecast_hours
        where not (dimension is not distinct from 'sku' or kpi_raw_only())
    ) f
    where f.period_start < as_of
      and f.period_start > window_start - interval 1 hour  -- (= ends after it; a bare column reads fewer row groups)
      and (market_filter is null or f.market = market_filter)
    group by all
)

select
    coalesce(s.dimension_value, f.dimension_value) as dimension_value,
    coalesce(s.bucket_start, f.bucket_start) as bucket_start,
    100.0 * coalesce(s.units, 0) / nullif(f.units, 0) as value,
    coalesce(s.units, 0)::bigint as n,
    coalesce(s.units, 0)::bigint as units_sold,
    f.units as forecast_units
from sold s
full join forecast f
    on s.dimension_value is not distinct from f.dimension_value
   and s.bucket_start is not distinct from f.bucket_start;
