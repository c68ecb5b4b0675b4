-- Diagnosis sku_cover: the stock position of SKUs as of $now, for surge or low-stock alerts.
-- Each of $entity_ids is "sku@market" (surge) or "sku@warehouse" (stock alerts); its scope is the
-- warehouses serving that market, or that one warehouse. Grain: one row per entity × warehouse in
-- scope. Columns: entity_id, warehouse_id, available (units), warning_qty, limit_qty (units),
-- units_per_hour and hours_to_stockout (h, null when nothing sold) as the hours_to_stockout KPI
-- counts them: the pace of the last 4 hours (stock_health_at, queries/kpi/_facts.sql).
-- Params: $now, $entity_ids (a list: the automatic playbook pass diagnoses every open alert at once,
-- at the reference scale 237 in 35 ms where one at a time took 17 ms each).
with target as (
    select entity_id, split_part(entity_id, '@', 1) as sku, split_part(entity_id, '@', 2) as scope
    from (select unnest($entity_ids::text[]) as entity_id)
),

scope as (
    select t.entity_id, t.sku, w.warehouse_id
    from target as t
    inner join warehouses as w on w.warehouse_id = t.scope or w.market = t.scope
),

health as (
    -- filtered on the parameter itself, not joined to `target`: a constant filter reaches the
    -- macro's per-SKU aggregates instead of computing every SKU's
    select h.*
    from stock_health_at($now::timestamptz, null) as h
    where list_contains(list_transform($entity_ids::text[], lambda e: split_part(e, '@', 1)), h.sku)
),

final as (
    select
        sc.entity_id,
        sc.warehouse_id,
        coalesce(h.available, 0) as available,
        p.warning_qty,
        p.limit_qty,
        round(coalesce(h.units_per_hour, 0), 2) as units_per_hour,
        round(h.hours_to_stockout, 1) as hours_to_stockout
    from scope as sc
    left join health as h on h.sku = sc.sku and h.warehouse_id = sc.warehouse_id
    left join stock_policies as p on p.sku = sc.sku and p.warehouse_id = sc.warehouse_id
)

select * from final order by entity_id, hours_to_stockout nulls last, warehouse_id
