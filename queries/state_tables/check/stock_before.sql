-- Test check: stock_latest_before($at) (state table + history fallback), in a fixed order.
select sku, warehouse_id, observed_at, available from stock_latest_before($at::timestamptz) order by all;
