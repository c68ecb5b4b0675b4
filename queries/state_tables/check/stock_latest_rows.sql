-- Test/bench check: every row of stock_latest, in a fixed order.
select sku, warehouse_id, observed_at, available from stock_latest order by all;
