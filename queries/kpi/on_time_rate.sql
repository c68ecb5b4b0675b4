-- name: on_time_rate
-- label: On-time delivery rate
-- label_zh: 准时交付率
-- definition: Share of orders delivered in the window whose delivery came on or before the delivery
--   date promised to the buyer. Orders without a promised date are left out.
-- definition_zh: 窗口内送达的订单中，在向买家承诺的送达时间当天或之前送达的比例；没有承诺时间的订单不计入。
-- unit: pct
-- grain: one row for the window; orders delivered in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by delivery time)
create or replace macro kpi_on_time_rate(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (order_counts in _facts.sql; same as order_facts)
select dimension_value, bucket_start, 100.0 * on_time / promised as value, promised as n
from order_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'delivered', kpi_raw_only())
where promised > 0;
