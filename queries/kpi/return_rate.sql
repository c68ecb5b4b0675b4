-- name: return_rate
-- label: Return rate
-- label_zh: 退货率
-- definition: Of the orders delivered in the window, the share with a return request (any reason,
--   not rejected) opened before the window end.
-- definition_zh: 窗口内送达的订单中，在窗口结束前发起退货（任何原因，未被拒绝）的比例。
-- unit: pct
-- grain: one row for the window; cohort = orders delivered in [start, min(end, now))
-- better: lower
-- format: {:.1f}%
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by delivery time)
create or replace macro kpi_return_rate(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (order_counts in _facts.sql; same as order_facts)
select dimension_value, bucket_start, 100.0 * returned / orders as value, orders as n
from order_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'delivered', kpi_raw_only())
where orders > 0;
