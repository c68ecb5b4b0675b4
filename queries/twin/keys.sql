-- Twin keys: every SKU × warehouse with stock as known at $at (the newest observation by then),
-- its watermarks, the SKU's unit price and cost and the market the warehouse serves.
-- Grain: one row per SKU × warehouse that has a stock observation or a stock policy.
-- Columns: sku, warehouse_id, market, available (units), safety_qty, warning_qty, limit_qty,
-- unit_price, unit_cost (USD). Params: $at.
with observed as (
    select sku, warehouse_id, available
    from stock_observations
    where observed_at <= $at
    qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1
),

pairs as (
    select sku, warehouse_id from observed
    union
    select sku, warehouse_id from stock_policies
),

final as (
    select
        p.sku,
        p.warehouse_id,
        w.market,
        coalesce(o.available, 0) as available,
        sp.safety_qty,
        sp.warning_qty,
        sp.limit_qty,
        coalesce(s.unit_price, 0)::double as unit_price,
        coalesce(s.unit_cost, 0)::double as unit_cost
    from pairs as p
    inner join warehouses as w using (warehouse_id)
    inner join skus as s using (sku)
    left join observed as o using (sku, warehouse_id)
    left join stock_policies as sp using (sku, warehouse_id)
)

select * from final order by sku, warehouse_id
