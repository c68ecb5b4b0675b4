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
-- params: start (unused: a state), end, now, market (the warehouse's), warehouse; merchant and
--   channel do not apply (stock is shared by every merchant and channel)
-- returns: value (pairs out of stock, NULL without stock data), n (pairs observed)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text  as merchant,         -- unused: stock is shared
        $channel::text   as channel,          -- unused: stock is shared
        $market::text    as market,
        $warehouse::text as warehouse
),

-- latest observation before as_of per pair (the history, not stock_current, so replay works)
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

final as (
    select
        case when count(*) > 0 then count(*) filter (where available <= 0) end as value,
        count(*) as n
    from stock_as_of
)

select * from final
