-- name: delivery_speed_by_dimension
-- label: Delivery time by dimension
-- definition: Hours from order placed to delivered (p50 and p90, linear interpolation) over orders delivered in the window, one row per value of the chosen dimension (same definition as
--   queries/kpi/delivery_speed_p50_hours.sql).
-- grain: one row per dimension value; window [start, min(end, now))
-- params: start, end, now, merchant, channel, market (NULL = all), dimension in ('carrier', 'market',
--   'merchant', 'channel', 'warehouse'); any other dimension returns no rows
-- returns: dimension_value ('(unknown)' when missing), p50_hours, p90_hours, n (delivered orders); sorted by n descending
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $dimension::text as dimension
),

delivered as (
    select
        -- the grouping column is chosen by value, never by building SQL from input
        coalesce(case p.dimension
            when 'carrier' then o.carrier
            when 'market' then o.market
            when 'merchant' then o.merchant_id
            when 'channel' then o.channel
            when 'warehouse' then o.warehouse_id
        end, '(unknown)') as dimension_value,
        date_diff('microsecond', o.created_at, o.delivered_at) / 3600e6 as hours
    from orders_with_delivery o
    cross join params p
    where o.delivered_at >= p.window_start
      and o.delivered_at < p.as_of
      and o.created_at is not null
      and p.dimension in ('carrier', 'market', 'merchant', 'channel', 'warehouse')
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

final as (
    select
        dimension_value,
        quantile_cont(hours, 0.5) as p50_hours,
        quantile_cont(hours, 0.9) as p90_hours,
        count(*) as n
    from delivered
    group by dimension_value
)

select * from final order by n desc, dimension_value
