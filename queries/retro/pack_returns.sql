-- pack_returns: the event's returns — requested in [$start, $end), or for an order placed in the
-- window (returns follow delivery by days). Filtered by merchant / channel / market of the order.
-- grain: one row per return × sku. returns: the columns of `returns`
-- (rows_about_window_orders: queries/schema/009_shared_query_macros.sql)
select * exclude (order_merchant_id, order_channel, order_market)
from rows_about_window_orders('returns', $start::timestamptz, $end::timestamptz)
where ($merchant::text is null or order_merchant_id = $merchant::text)
  and ($channel::text is null or order_channel = $channel::text)
  and ($market::text is null or order_market = $market::text)
order by created_at, return_id, sku
