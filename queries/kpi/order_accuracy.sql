-- name: order_accuracy
-- label: Order accuracy
-- label_zh: 订单准确率
-- definition: 1 − (orders shipped in the window that came back as wrong item or damaged ÷ orders
--   shipped in the window), as a percentage.
-- definition_zh: 1 −（窗口内发货的订单中因发错货或破损退回的订单 ÷ 窗口内发货的订单），以百分比表示。
-- unit: pct
-- grain: one row for the window; cohort = orders shipped in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all)
-- returns: value (percent 0–100, NULL without shipped orders), n (shipped orders)
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

-- shipped = the outbound shipment's pickup, else the shop's fulfilment time
shipped as (
    select o.order_id
    from orders_with_delivery o
    cross join params p
    where coalesce(o.shipped_at, o.fulfilled_at) >= p.window_start
      and coalesce(o.shipped_at, o.fulfilled_at) < p.as_of
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
      and (p.carrier is null or o.carrier = p.carrier)
),

inaccurate as (
    select distinct r.order_id
    from returns r
    cross join params p
    where r.created_at < p.as_of
      and r.reason in ('wrong_item', 'damaged')
      and coalesce(r.status, '') <> 'rejected'
),

final as (
    select
        100.0 * (1 - count(i.order_id) / nullif(count(*), 0)) as value,
        count(*) as n
    from shipped s
    left join inaccurate i using (order_id)
)

select * from final
