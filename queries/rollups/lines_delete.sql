-- Forget the per-line rows of the orders in `orders` (all of them when $all).
delete from rollup_lines
where $all::boolean or order_id in ({orders});
