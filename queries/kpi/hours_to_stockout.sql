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
-- params: start (unused: a state), end, now, market (the warehouse's), warehouse; merchant and
--   channel do not apply (stock and its drain are shared)
-- returns: value (hours, NULL when no stocked pair sold in 4 h), n (stocked pairs that are selling)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text  as merchant,         -- unused: stock is shared
        $channel::text   as channel,          -- unused: stock is shared
        $market::text    as market,
        $warehouse::text as warehouse
),

stock_as_of as (
    select o.sku, o.warehouse_id, o.available
    from stock_observations o
    cross join params p
    left join warehouses w using (warehouse_id)
    where o.observed_at < p.as_of
      and (p.market is null or w.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
    qualify row_number() over (partition by o.sku, o.warehouse_id order by o.observed_at desc) = 1
),

pace as (
    select l.sku, o.warehouse_id, sum(l.quantity) / 4.0 as units_per_hour
    from order_lines l
    join orders o using (order_id)
    cross join params p
    where o.created_at >= p.as_of - interval 4 hour
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
    group by all
),

runway as (
    select s.available / k.units_per_hour as hours
    from stock_as_of s
    join pace k using (sku, warehouse_id)
    where s.available > 0
      and k.units_per_hour > 0
),

final as (
    select min(hours) as value, count(*) as n
    from runway
)

select * from final
