-- name: delivery_speed_p50_hours
-- label: Delivery time p50
-- label_zh: 交付时长 p50
-- definition: The 50th percentile (linear interpolation) of hours from order placed to delivered,
--   over orders delivered in the window.
-- definition_zh: 窗口内送达订单从下单到送达小时数的第 50 百分位（线性插值）。
-- unit: hours
-- grain: one row for the window; orders delivered in [start, min(end, now))
-- better: lower
-- format: {:.1f} h
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by delivery time)
create or replace macro kpi_delivery_speed_p50_hours(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select dimension_value, kpi_bucket(bucket, delivered_at) as bucket_start,
    quantile_cont(hours_to_deliver, 0.50) as value, count(*) as n
from delivery_hours(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter,
    carrier_filter, dimension, kpi_raw_only())
group by all;
