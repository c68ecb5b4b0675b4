-- pack_order_lines: the lines of the orders in retro/pack_orders (same window and filters).
-- grain: one row per order line. returns: the columns of `order_lines`
with pack_orders as (
    select o.order_id
    from orders o
    where o.created_at >= $start::timestamptz
      and o.created_at < $end::timestamptz
      and ($merchant::text is null or o.merchant_id = $merchant::text)
      and ($channel::text is null or o.channel = $channel::text)
      and ($market::text is null or o.market = $market::text)
)

select l.*
from order_lines l
join pack_orders using (order_id)
order by l.order_id, l.line_id
