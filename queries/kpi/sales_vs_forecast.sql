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
-- params: start, end, now, market; merchant and channel do not apply (the forecast is for the
--   whole market)
-- returns: value (percent, NULL without a forecast), n (units sold), units_sold, forecast_units
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text as merchant,  -- unused: forecasts are per market
        $channel::text  as channel,   -- unused: forecasts are per market
        $market::text   as market
),

sold as (
    select sum(l.quantity) as units
    from order_lines l
    join orders o using (order_id)
    cross join params p
    where o.created_at >= p.window_start
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
      and (p.market is null or o.market = p.market)
),

-- each forecast hour counts for the fraction of it inside the window
forecast as (
    select sum(
        f.units * date_diff(
            'microsecond',
            greatest(f.period_start, p.window_start),
            least(f.period_start + interval 1 hour, p.as_of)
        ) / 3600e6
    ) as units
    from forecasts f
    cross join params p
    where f.period_start < p.as_of
      and f.period_start + interval 1 hour > p.window_start
      and (p.market is null or f.market = p.market)
),

final as (
    select
        100.0 * coalesce(s.units, 0) / nullif(f.units, 0) as value,
        coalesce(s.units, 0)::bigint as n,
        coalesce(s.units, 0)::bigint as units_sold,
        f.units as forecast_units
    from sold s, forecast f
)

select * from final
