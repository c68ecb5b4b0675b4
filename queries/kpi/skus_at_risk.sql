-- name: skus_at_risk
-- label: SKUs at risk
-- label_zh: 缺货风险 SKU
-- definition: The sku × warehouse pairs that run out first at the pace of the last 4 hours (already
--   out of stock first), with what is inbound to save them.
-- grain: one row per sku × warehouse that is out of stock or selling; the $limit soonest
-- params: start (unused), end, now, market (the warehouse's), limit (rows); merchant and channel do
--   not apply (stock is shared)
-- returns: the stock_health columns (same definitions), ordered by hours_to_stockout ascending
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text as merchant,          -- unused: stock is shared by all merchants
        $channel::text  as channel,           -- unused: stock is shared by all channels
        $market::text   as market,
        $limit::integer as row_limit
),

-- stock_health, row for row (queries/schema/004_shared_macros.sql)
final as (
    select h.*
    -- the bound values go straight in, so DuckDB folds them to constants
    from stock_health_at(least($end::timestamptz, $now::timestamptz), $market::text) h
)

select f.*
from final f
where f.hours_to_stockout is not null
order by f.hours_to_stockout, f.units_per_hour desc, f.sku, f.warehouse_id
limit (select greatest(coalesce(row_limit, 10), 0) from params)
