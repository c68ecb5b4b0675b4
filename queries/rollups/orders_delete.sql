-- Forget the per-order rows of the orders in `orders` (all of them when $all), before orders_insert
-- recomputes them from the raw rows.
delete from rollup_orders
where $all::boolean or order_id in ({orders});
