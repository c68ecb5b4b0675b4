-- Diagnosis supplier_pos: the open purchase orders of the supplier in $entity_id, as of $now.
-- Grain: one row per open PO (open or in_production); for a PO alert ($entity_id is a po_id) the
-- open POs of that PO's supplier. Columns: po_id, sku, warehouse_id, quantity_ordered,
-- quantity_to_make (units), promised_ship_date, last_report_at, hours_since_report (h).
-- Params: $now, $entity_id.
with target as (
    select coalesce(
        (select supplier_id from purchase_orders where po_id = $entity_id), $entity_id
    ) as supplier_id
),

progress as (
    select po_id, observed_at, quantity_produced
    from po_progress
    where observed_at <= $now
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

final as (
    select
        po.po_id,
        po.sku,
        po.warehouse_id,
        po.quantity_ordered,
        greatest(po.quantity_ordered - coalesce(p.quantity_produced, 0), 0) as quantity_to_make,
        po.promised_ship_date,
        p.observed_at as last_report_at,
        round(epoch($now::timestamptz - coalesce(p.observed_at, po.ordered_at)) / 3600, 1)
            as hours_since_report
    from purchase_orders as po
    inner join target using (supplier_id)
    left join progress as p using (po_id)
    where po.status in ('open', 'in_production')
      and po.ordered_at <= $now
)

select * from final order by promised_ship_date, po_id
