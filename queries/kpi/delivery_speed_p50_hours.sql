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

-- orders delivered in [window_start, as_of) (queries/schema/004_shared_macros.sql)
delivered as (
    select date_diff('microsecond', o.created_at, o.delivered_at) / 3600e6 as hours
    -- the bound values go straight in, so DuckDB folds them to constants
    from orders_delivered_between(
        coalesce($start::timestamptz, '-infinity'::timestamptz),
        least($end::timestamptz, $now::timestamptz),
        $merchant::text, $channel::text, $market::text, $warehouse::text, $carrier::text
    ) o
    where o.created_at is not null
),

final as (
    select quantile_cont(hours, 0.50) as value, count(*) as n
    from delivered
)

select * from final
