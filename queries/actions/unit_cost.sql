-- What one unit of a SKU costs in the reporting currency (USD): the newest PO price from this supplier,
-- else the newest from any supplier, else the catalogue's landed cost. NULL when none is known.
with priced as (
    select coalesce(to_reporting(po.unit_cost, coalesce(po.currency, 'USD'), po.ordered_at),
                    case when coalesce(po.currency, 'USD') = 'USD' then po.unit_cost end) as usd,
           po.supplier_id = $supplier_id as same_supplier, po.ordered_at
    from purchase_orders as po
    where po.sku = $sku and po.unit_cost is not null
)
select coalesce(
    (select arg_max(usd, ordered_at) from priced where same_supplier and usd is not null),
    (select arg_max(usd, ordered_at) from priced where usd is not null),
    (select coalesce(to_reporting(s.unit_cost, coalesce(s.currency, 'USD'), $now),
                     case when coalesce(s.currency, 'USD') = 'USD' then s.unit_cost end)
     from skus as s where s.sku = $sku)
) as unit_cost_usd
