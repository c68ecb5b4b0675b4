-- pack_orders: the event's orders for the data pack — every stored column of orders created in
-- [$start, $end), filtered by merchant / channel / market (NULL = all).
-- grain: one row per order. returns: the columns of `orders`
-- (orders_in_window: queries/schema/009_shared_query_macros.sql)
select *
from orders_in_window($start::timestamptz, $end::timestamptz, $merchant::text, $channel::text, $market::text)
order by created_at, order_id
