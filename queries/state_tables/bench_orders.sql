-- Bench: the $n newest orders (a sync's worth of Shopify orders), every column.
select * from orders order by created_at desc, order_id limit $n;
