-- What-if page: the choices of the scenario form (what a disruption can name).
-- Grain: one row per (kind, value); kind is supplier | node | carrier | sku | market | country.
-- label is what the form shows (the name where there is one). Params: none (the whole network).
with final as (
    select 'supplier' as kind, supplier_id as value, coalesce(name, supplier_id) as label from suppliers
    union all
    select 'node', node_id, coalesce(name, node_id) from nodes
    union all
    select distinct 'carrier', carrier, carrier from shipments where carrier is not null
    union all
    select 'sku', sku, sku from skus
    union all
    select distinct 'market', market, market from warehouses where market is not null
    union all
    select distinct 'country', country, country from nodes where country is not null
)

select kind, value, label
from final
where value is not null
order by kind, label, value
