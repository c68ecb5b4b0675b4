-- Test check: checkpoint_latest_before($at) (state table + history fallback), in a fixed order.
select * from checkpoint_latest_before($at::timestamptz) order by all;
