-- Diagnosis sku_cover: the stock position of one SKU as of $now, for a surge or low-stock alert.
-- $entity_id is "sku@market" (surge) or "sku@warehouse" (stock alerts); the scope is the warehouses
-- serving that market, or that one warehouse. Grain: one row per warehouse in scope.
-- Columns: warehouse_id, available (units), warning_qty, limit_qty (units), units_per_hour and
-- hours_to_stockout (h, null when nothing sold) as the hours_to_stockout KPI counts them: the pace
-- of the last 4 hours (stock_health_at, queries/kpi/_facts.sql).
-- Params: $now, $entity_id.
with target as (
    select split_part($entity_id, '@', 1) as sku, split_part($entity_id, '@', 2) as scope
),

scope as (
    select w.warehouse_id
    from warehouses as w, target
    where w.warehouse_id = target.scope or w.market = target.scope
),

health as (
    select h.*
    from stock_health_at($now::timestamptz, null) as h, target
    where h.sku = target.sku
),

final as (
    select
        sc.warehouse_id,
        coalesce(h.available, 0) as available,
        p.warning_qty,
        p.limit_qty,
        round(coalesce(h.units_per_hour, 0), 2) as units_per_hour,
        round(h.hours_to_stockout, 1) as hours_to_stockout
    from scope as sc
    cross join target
    left join health as h using (warehouse_id)
    left join stock_policies as p on p.sku = target.sku and p.warehouse_id = sc.warehouse_id
)

select * from final order by hours_to_stockout nulls last, warehouse_id
