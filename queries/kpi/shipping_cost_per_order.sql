-- name: shipping_cost_per_order
-- label: Shipping cost per order
-- label_zh: 每单运费
-- definition: Average shipping cost paid by the seller per order placed in the window (orders not
--   cancelled, with a known cost), in the orders' own currency.
-- definition_zh: 窗口内下单（未取消、运费已知）的订单平均每单卖家承担的运费，按订单自身币种计算。
-- unit: money
-- grain: one row for the window; orders created in [start, min(end, now))
-- better: lower
-- format: {:,.2f}
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all)
-- returns: value (money per order, NULL without orders), n (orders with a shipping cost)
-- caveat: mixed currencies are averaged as numbers; filter by merchant to keep one currency
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

costed as (
    select o.shipping_cost
    from orders_with_delivery o
    cross join params p
    where o.created_at >= p.window_start
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
      and o.shipping_cost is not null
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
      and (p.carrier is null or o.carrier = p.carrier)
),

final as (
    select avg(shipping_cost)::double as value, count(*) as n
    from costed
)

select * from final
