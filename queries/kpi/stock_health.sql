-- name: stock_health
-- label: Stock health
-- label_zh: 库存健康度
-- definition: Per sku × warehouse: units available against the safety / warning / limit watermarks,
--   cover and runway at the current pace, and what is on its way.
-- grain: one row per sku × warehouse with a stock observation before min(end, now)
-- params: start (unused: a state), end, now, market (the warehouse's); merchant and channel do not
--   apply (stock is shared)
-- returns: sku, sku_name, sku_class, warehouse_id, warehouse_name, market, available, observed_at,
--   safety_qty, warning_qty, limit_qty, cover_days (planned for the class), units_sold_7d,
--   units_per_hour (last 4 h), days_of_supply (available ÷ 7-day average, NULL without sales),
--   hours_to_stockout (0 when out, NULL without sales in 4 h), inbound_qty (open POs not yet
--   arrived), inbound_in_transit_qty, next_inbound_eta (earliest in-transit ETA), next_po_ship_date
--   (earliest promised ship date of POs not yet shipped), status: red (out, or below limit) |
--   yellow (below warning) | over (more than twice the planned cover) | green
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text as merchant,          -- unused: stock is shared by all merchants
        $channel::text  as channel,           -- unused: stock is shared by all channels
        $market::text   as market
),

-- the shared definition (queries/schema/004_shared_macros.sql): one row per sku × warehouse
final as (
    select h.*
    -- the bound values go straight in, so DuckDB folds them to constants
    from stock_health_at(least($end::timestamptz, $now::timestamptz), $market::text) h
)

select * from final
order by case status when 'red' then 0 when 'yellow' then 1 when 'green' then 2 else 3 end,
    hours_to_stockout nulls last, sku, warehouse_id
