-- name: days_of_supply
-- label: Days of supply
-- label_zh: 库存可售天数
-- definition: Units available now ÷ average daily units sold over the 7 days before the moment,
--   over the matching sku × warehouse pairs with a stock observation (sales counted at the
--   fulfilling warehouse; pairs never observed are left out of both sides).
-- definition_zh: 当前可售库存 ÷ 该时刻之前 7 天的日均销量（按发货仓统计），只计有库存观测的 SKU × 仓库组合（从未观测到的组合两边都不计）。
-- unit: days
-- grain: one row: stock as of min(end, now); sales in the 7 days before it
-- better: higher
-- format: {:.1f} d
-- dimensions: market, warehouse, sku
-- buckets: none (a state as of the moment)
create or replace macro kpi_days_of_supply(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select kpi_group(dimension, null, null, market, warehouse_id, null, null, sku) as dimension_value,
    null::timestamptz as bucket_start,
    sum(greatest(available, 0)) / (nullif(sum(units_sold_7d), 0) / 7.0) as value,
    sum(units_sold_7d)::bigint as n
from stock_position_at(as_of, market_filter)
where warehouse_filter is null or warehouse_id = warehouse_filter
group by all;
