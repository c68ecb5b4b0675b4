-- supplier_pairs: which supplier replenishes which sku × warehouse (from its purchase orders, any
-- status but cancelled), so a stockout there counts on that supplier's scorecard.
-- grain: one row per supplier × sku × warehouse. returns: supplier_id, sku, warehouse_id
select distinct supplier_id, sku, warehouse_id
from purchase_orders
where coalesce(status, '') <> 'cancelled'
  and supplier_id is not null
order by supplier_id, sku, warehouse_id
