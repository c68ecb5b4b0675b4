-- name: order_accuracy
-- label: Order accuracy
-- label_zh: 订单准确率
-- definition: 1 − (orders shipped in the window that came back as wrong item or damaged ÷ orders
--   shipped in the window), as a percentage.
-- definition_zh: 1 −（窗口内发货的订单中因发错货或破损退回的订单 ÷ 窗口内发货的订单），以百分比表示。
-- unit: pct
-- grain: one row for the window; cohort = orders shipped in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by ship time)
create or replace macro kpi_order_accuracy(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (order_counts in _facts.sql; same as order_facts)
select dimension_value, bucket_start, 100.0 * (orders - inaccurate) / orders as value, orders as n
from order_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'shipped', kpi_raw_only())
where orders > 0;
