-- pack_order_lines: the lines of the orders in retro/pack_orders (same window and filters).
-- grain: one row per order line. returns: the columns of `order_lines`
select l.*
from order_lines l
join orders_in_window($start::timestamptz, $end::timestamptz, $merchant::text, $channel::text, $market::text) o
    using (order_id)
order by l.order_id, l.line_id
