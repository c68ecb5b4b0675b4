-- name: sales_vs_forecast_hourly
-- label: Sales vs forecast by hour
-- label_zh: 每小时销量对比预测
-- definition: Per hour of the window: units sold, units forecast and their ratio. Forecast hours up
--   to the window end are listed even when still ahead (plans are known in advance); their sales and
--   ratio stay NULL until the hour has begun.
-- grain: one row per UTC hour from the hour of start (or 48 h before the moment without one) to end
-- params: start, end, now, market (NULL = all); merchant and channel do not apply (the forecast is
--   for the whole market)
-- returns: hour, units_sold, forecast_units, ratio_pct (sold ÷ forecast of the elapsed part of the
--   hour, in percent), is_future
with params as (
    select
        date_trunc('hour', coalesce(
            $start::timestamptz, least($end::timestamptz, $now::timestamptz) - interval 48 hour
        )) as first_hour,
        $end::timestamptz                            as window_end,
        least($end::timestamptz, $now::timestamptz)  as as_of,
        $merchant::text as merchant,  -- unused: forecasts are per market
        $channel::text  as channel,   -- unused: forecasts are per market
        $market::text   as market
),

hours as (
    select unnest(generate_series(p.first_hour, p.window_end - interval 1 microsecond, interval 1 hour))
        as hour
    from params p
    where p.window_end > p.first_hour
),

sold as (
    select date_trunc('hour', o.created_at) as hour, sum(l.quantity) as units
    from order_lines l
    join orders o using (order_id)
    cross join params p
    where o.created_at >= p.first_hour
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
      and (p.market is null or o.market = p.market)
    group by all
),

forecast as (
    select f.period_start as hour, sum(f.units) as units
    from forecasts f
    cross join params p
    where f.period_start >= p.first_hour
      and f.period_start < p.window_end
      and (p.market is null or f.market = p.market)
    group by all
),

final as (
    select
        h.hour,
        case when h.hour < p.as_of then coalesce(s.units, 0) end::bigint as units_sold,
        f.units as forecast_units,
        -- the current hour is compared with the elapsed share of its forecast
        case when h.hour < p.as_of then
            100.0 * coalesce(s.units, 0) / nullif(f.units * least(1.0,
                date_diff('microsecond', h.hour, p.as_of) / 3600e6), 0)
        end as ratio_pct,
        h.hour >= p.as_of as is_future
    from hours h
    cross join params p
    left join sold s using (hour)
    left join forecast f using (hour)
)

select * from final order by hour
