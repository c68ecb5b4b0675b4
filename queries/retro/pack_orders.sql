-- pack_orders: the event's orders for the data pack — every stored column of orders created in
-- [$start, $end), filtered by merchant / channel / market (NULL = all).
-- grain: one row per order. returns: the columns of `orders`
select o.*
from orders o
where o.created_at >= $start::timestamptz
  and o.created_at < $end::timestamptz
  and ($merchant::text is null or o.merchant_id = $merchant::text)
  and ($channel::text is null or o.channel = $channel::text)
  and ($market::text is null or o.market = $market::text)
order by o.created_at, o.order_id
