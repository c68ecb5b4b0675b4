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
-- params: start (unused: a state), end, now, market (the warehouse's), warehouse; merchant and
--   channel do not apply (stock and its drain are shared)
-- returns: value (days, NULL when nothing sold in 7 days), n (units sold in those 7 days)
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
    select o.sku, o.warehouse_id, greatest(o.available, 0) as available
    from stock_observations o
    cross join params p
    left join warehouses w using (warehouse_id)
    where o.observed_at < p.as_of
      and (p.market is null or w.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
    qualify row_number() over (partition by o.sku, o.warehouse_id order by o.observed_at desc) = 1
),

-- an order cancelled before as_of never drained stock; only pairs whose stock we know
sold as (
    select sum(l.quantity) as units
    from order_lines l
    join orders o using (order_id)
    join stock_as_of s on s.sku = l.sku and s.warehouse_id = o.warehouse_id
    cross join params p
    where o.created_at >= p.as_of - interval 7 day
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
),

final as (
    select
        (select sum(available) from stock_as_of) / (nullif(s.units, 0) / 7.0) as value,
        coalesce(s.units, 0)::bigint as n
    from sold s
)

select * from final
