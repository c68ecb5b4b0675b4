-- name: delivery_speed_p50_hours
-- label: Delivery time p50
-- label_zh: 交付时长 p50
-- definition: The 50th percentile (linear interpolation) of hours from order placed to delivered,
--   over orders delivered in the window.
-- definition_zh: 窗口内送达订单从下单到送达小时数的第 50 百分位（线性插值）。
-- unit: hours
-- grain: one row for the window; orders delivered in [start, min(end, now))
-- better: lower
-- format: {:.1f} h
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all)
-- returns: value (hours, NULL without deliveries), n (delivered orders)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $warehouse::text as warehouse,
        $carrier::text   as carrier
),

delivered as (
    select date_diff('microsecond', o.created_at, o.delivered_at) / 3600e6 as hours
    from orders_with_delivery o
    cross join params p
    where o.delivered_at >= p.window_start
      and o.delivered_at < p.as_of
      and o.created_at is not null
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
      and (p.carrier is null or o.carrier = p.carrier)
),

final as (
    select quantile_cont(hours, 0.50) as value, count(*) as n
    from delivered
)

select * from final
