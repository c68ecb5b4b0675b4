-- name: on_time_rate_by_dimension
-- label: On-time delivery rate by dimension
-- definition: Share of delivered orders that arrived by the promised date, in percent, one row per value of the chosen dimension (same definition as
--   queries/kpi/on_time_rate.sql).
-- grain: one row per dimension value; window [start, min(end, now))
-- params: start, end, now, merchant, channel, market (NULL = all), dimension in ('carrier', 'market',
--   'merchant', 'channel', 'warehouse'); any other dimension returns no rows
-- returns: dimension_value ('(unknown)' when missing), value (percent 0–100), n (delivered orders with a promise); sorted by n descending
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
        o.delivered_at <= o.promised_delivery_at as on_time
    from orders_with_delivery o
    cross join params p
    where o.delivered_at >= p.window_start
      and o.delivered_at < p.as_of
      and o.promised_delivery_at is not null
      and p.dimension in ('carrier', 'market', 'merchant', 'channel', 'warehouse')
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

final as (
    select
        dimension_value,
        100.0 * count(*) filter (where on_time) / count(*) as value,
        count(*) as n
    from delivered
    group by dimension_value
)

select * from final order by n desc, dimension_value
