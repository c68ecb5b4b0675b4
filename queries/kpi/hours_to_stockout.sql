-- name: hours_to_stockout
-- label: Hours to first stockout
-- label_zh: 距首次缺货小时数
-- definition: The smallest, over sku × warehouse pairs still in stock, of units available ÷ units
--   sold per hour over the last 4 hours: when the first pair runs out at the current pace.
-- definition_zh: 在仍有库存的 SKU × 仓库中，可售数量 ÷ 最近 4 小时每小时销量的最小值：按当前节奏第一个断货的时间。
-- unit: hours
-- grain: one row: stock as of min(end, now); sales in the 4 hours before it; min over pairs
-- better: higher
-- format: {:.1f} h
-- dimensions: market, warehouse, sku
-- buckets: none (a state as of the moment)
create or replace macro kpi_hours_to_stockout(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select kpi_group(dimension, null, null, market, warehouse_id, null, null, sku) as dimension_value,
    null::timestamptz as bucket_start,
    min(hours_to_stockout) as value, count(*) as n
from stock_pace_at(as_of, market_filter)
where (warehouse_filter is null or warehouse_id = warehouse_filter)
  and available > 0 and units_per_hour > 0
group by all;
