-- Twin order flow: units ordered per supplier × SKU × warehouse over the $days days before $at,
-- the replenishment pattern the twin continues over its horizon.
-- Grain: one row per supplier × SKU × warehouse with a PO. Columns: supplier_id, sku, warehouse_id,
-- units_per_day. Params: $at, $days.
select supplier_id, sku, warehouse_id, sum(quantity_ordered)::double / $days as units_per_day
from purchase_orders
where ordered_at <= $at
  and ordered_at > $at::timestamptz - to_days($days::bigint)
  and status <> 'cancelled'
group by all
order by all
