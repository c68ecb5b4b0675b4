-- name: fill_rate
-- label: Fill rate
-- label_zh: 订单满足率
-- definition: Units on orders placed in the window that shipped from stock ÷ units ordered. Orders
--   still open and younger than 48 hours (normal handling time) are left out: they can still ship;
--   cancelled or long-open orders count as not filled.
-- definition_zh: 窗口内下单并从库存发出的件数 ÷ 下单件数。仍未处理且不足 48 小时（正常处理时间）的订单不计入；已取消或长期未发的订单计为未满足。
-- unit: pct
-- grain: one row for the window; order lines of orders created in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- dimensions: merchant, channel, market, warehouse, sku
-- buckets: hour, day (by order time)
create or replace macro kpi_fill_rate(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- lines still inside the 48 h handling time and neither shipped nor cancelled are not judged yet
select dimension_value, kpi_bucket(bucket, created_at) as bucket_start,
    100.0 * coalesce(sum(quantity) filter (where fulfilled), 0) / nullif(sum(quantity), 0) as value,
    coalesce(sum(quantity), 0)::bigint as n
from line_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, dimension)
where created_at >= window_start
  and (fulfilled or cancelled or created_at < as_of - interval 48 hour)
group by all;
