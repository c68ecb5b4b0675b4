-- Diagnosis sku_cover: the stock position of one SKU as of $now, for a surge or low-stock alert.
-- $entity_id is "sku@market" (surge) or "sku@warehouse" (stock alerts); the scope is the warehouses
-- serving that market, or that one warehouse. Grain: one row per warehouse in scope.
-- Columns: warehouse_id, available (units), warning_qty, limit_qty (units), units_per_hour (orders
-- of the SKU from that warehouse over the last $rate_window_hours h), hours_to_stockout (h, null
-- when nothing sold).
-- Params: $now, $entity_id, $rate_window_hours.
with target as (
    select split_part($entity_id, '@', 1) as sku, split_part($entity_id, '@', 2) as scope
),

scope as (
    select w.warehouse_id
    from warehouses as w, target
    where w.warehouse_id = target.scope or w.market = target.scope
),

latest as (
    select s.warehouse_id, s.available
    from stock_observations as s, target
    where s.sku = target.sku and s.observed_at <= $now
    qualify row_number() over (partition by s.warehouse_id order by s.observed_at desc) = 1
),

sold as (
    select o.warehouse_id, sum(ol.quantity)::double / $rate_window_hours::double as units_per_hour
    from orders as o
    inner join order_lines as ol using (order_id)
    cross join target
    where ol.sku = target.sku
      and o.created_at > $now::timestamptz - to_seconds($rate_window_hours::double * 3600)
      and o.created_at <= $now
      and (o.cancelled_at is null or o.cancelled_at > $now)
    group by all
),

final as (
    select
        sc.warehouse_id,
        coalesce(l.available, 0) as available,
        p.warning_qty,
        p.limit_qty,
        round(coalesce(s.units_per_hour, 0), 2) as units_per_hour,
        round(greatest(coalesce(l.available, 0), 0) / nullif(s.units_per_hour, 0), 1) as hours_to_stockout
    from scope as sc
    cross join target
    left join latest as l using (warehouse_id)
    left join sold as s using (warehouse_id)
    left join stock_policies as p on p.sku = target.sku and p.warehouse_id = sc.warehouse_id
)

select * from final order by hours_to_stockout nulls last, warehouse_id
