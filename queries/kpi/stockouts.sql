-- name: stockouts
-- label: Stockouts
-- label_zh: 缺货数
-- definition: SKU × warehouse pairs whose latest stock observation before the moment shows
--   nothing available (0 or less).
-- definition_zh: 在该时刻之前最新一次库存观测显示可售数量为 0（或更少）的 SKU × 仓库组合数。
-- unit: count
-- grain: one row: the state as of min(end, now) over sku × warehouse pairs
-- better: lower
-- format: {:,.0f}
-- dimensions: market, warehouse, sku
-- buckets: none (a state as of the moment)
create or replace macro kpi_stockouts(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select kpi_group(dimension, null, null, market, warehouse_id, null, null, sku) as dimension_value,
    null::timestamptz as bucket_start,
    count(*) filter (where available <= 0) as value, count(*) as n
from stock_pace_at(as_of, market_filter)
where warehouse_filter is null or warehouse_id = warehouse_filter
group by all;
