-- window_totals: demand in a window — orders placed, units sold and revenue — for the event vs
-- baseline comparison (the surge shows here first).
-- grain: one row for orders created in [$start, min($end, $now)), cancelled orders left out.
-- params: start, end, now, merchant, channel, market (NULL = all)
-- returns: orders (count), units (units on their lines), revenue (sum of line quantity × price, the
--   orders' currency), hours (elapsed length of the window, hours)
with params as (
    select
        $start::timestamptz                          as window_start,
        least($end::timestamptz, $now::timestamptz) as as_of,
        $merchant::text as merchant,
        $channel::text  as channel,
        $market::text   as market
),

window_orders as (
    select o.order_id
    from orders o
    cross join params p
    where o.created_at >= p.window_start
      and o.created_at < p.as_of
      and o.cancelled_at is null
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

line_totals as (
    select
        sum(l.quantity)           as units,
        sum(l.quantity * l.price) as revenue
    from order_lines l
    join window_orders w using (order_id)
),

final as (
    select
        (select count(*) from window_orders)          as orders,
        coalesce(t.units, 0)                          as units,
        coalesce(t.revenue, 0)::double                as revenue,
        greatest(epoch(p.as_of - p.window_start), 0) / 3600.0 as hours
    from line_totals t
    cross join params p
)

select * from final
