-- Bench: every line of the orders $orders, every column.
select * from order_lines where order_id in (select unnest($orders::text[])) order by order_id, line_id;
