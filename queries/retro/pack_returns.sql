-- pack_returns: the event's returns — requested in [$start, $end), or for an order placed in the
-- window (returns follow delivery by days). Filtered by merchant / channel / market of the order.
-- grain: one row per return × sku. returns: the columns of `returns`
with window_orders as (
    select o.order_id
    from orders o
    where o.created_at >= $start::timestamptz
      and o.created_at < $end::timestamptz
)

select r.*
from returns r
left join orders o using (order_id)
where ((r.created_at >= $start::timestamptz and r.created_at < $end::timestamptz)
       or r.order_id in (select order_id from window_orders))
  and ($merchant::text is null or o.merchant_id = $merchant::text)
  and ($channel::text is null or o.channel = $channel::text)
  and ($market::text is null or o.market = $market::text)
order by r.created_at, r.return_id, r.sku
