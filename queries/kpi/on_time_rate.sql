-- name: on_time_rate
-- label: On-time delivery rate
-- label_zh: 准时交付率
-- definition: Share of orders delivered in the window whose delivery came on or before the delivery
--   date promised to the buyer. Orders without a promised date are left out.
-- definition_zh: 窗口内送达的订单中，在向买家承诺的送达时间当天或之前送达的比例；没有承诺时间的订单不计入。
-- unit: pct
-- grain: one row for the window; orders delivered in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all)
-- returns: value (percent 0–100, NULL without deliveries), n (delivered orders with a promise)
with params as (
    -- every bound input once; nothing after min($end, $now) counts, so replay "as of" works
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
    select o.delivered_at <= o.promised_delivery_at as on_time
    -- the bound values go straight in, so DuckDB folds them to constants
    from orders_delivered_between(
        coalesce($start::timestamptz, '-infinity'::timestamptz),
        least($end::timestamptz, $now::timestamptz),
        $merchant::text, $channel::text, $market::text, $warehouse::text, $carrier::text
    ) o
    where o.promised_delivery_at is not null
),

final as (
    select
        100.0 * count(*) filter (where on_time) / nullif(count(*), 0) as value,
        count(*) as n
    from delivered
)

select * from final
