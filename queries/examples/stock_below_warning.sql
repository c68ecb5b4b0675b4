-- Stock below its warning watermark, now
-- Latest observed available units per SKU × warehouse that are under the warning (yellow) or
-- limit (red) level of their stock policy. Grain: one row per (sku, warehouse_id). Units: units.
-- Uses $market (warehouse market, null = all).
with current_stock as (
    select s.sku, s.warehouse_id, s.available, s.observed_at, w.market
    from stock_current s
    left join warehouses w using (warehouse_id)
    where ($market is null or w.market = $market)
),

final as (
    select
        c.sku, c.warehouse_id, c.market, c.available,
        p.warning_qty, p.limit_qty,
        case when c.available < p.limit_qty then 'red' else 'yellow' end as level,
        c.observed_at
    from current_stock c
    join stock_policies p using (sku, warehouse_id)
    where c.available < p.warning_qty
)

select * from final
order by level, available
