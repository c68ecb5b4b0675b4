-- Twin supplier costs: the average agreed unit cost per supplier × SKU over POs placed by $at.
-- Grain: one row per supplier × SKU. Columns: supplier_id, sku, unit_cost (USD). Params: $at.
select supplier_id, sku, avg(unit_cost)::double as unit_cost
from purchase_orders
where ordered_at <= $at and unit_cost is not null
group by all
order by all
