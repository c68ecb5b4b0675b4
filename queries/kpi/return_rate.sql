-- name: return_rate
-- label: Return rate
-- label_zh: 退货率
-- definition: Of the orders delivered in the window, the share with a return request (any reason,
--   not rejected) opened before the window end.
-- definition_zh: 窗口内送达的订单中，在窗口结束前发起退货（任何原因，未被拒绝）的比例。
-- unit: pct
-- grain: one row for the window; cohort = orders delivered in [start, min(end, now))
-- better: lower
-- format: {:.1f}%
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all)
-- returns: value (percent 0–100, NULL without deliveries), n (delivered orders in the cohort)
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

cohort as (
    select o.order_id
    from orders_with_delivery o
    cross join params p
    where o.delivered_at >= p.window_start
      and o.delivered_at < p.as_of
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
      and (p.carrier is null or o.carrier = p.carrier)
),

-- a rejected request is not a return; status is the latest known one
returned as (
    select distinct r.order_id
    from returns r
    cross join params p
    where r.created_at < p.as_of
      and coalesce(r.status, '') <> 'rejected'
),

final as (
    select
        100.0 * count(r.order_id) / nullif(count(*), 0) as value,
        count(*) as n
    from cohort c
    left join returned r using (order_id)
)

select * from final
