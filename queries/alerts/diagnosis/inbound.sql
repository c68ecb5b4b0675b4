-- Diagnosis inbound: what is on its way for the SKU of each of $entity_ids ("sku@…"), as of $now.
-- Grain: one row per entity × open or shipped purchase order of its SKU not yet closed. Columns:
-- entity_id, po_id, supplier_id, tier, warehouse_id, quantity_ordered, quantity_produced, quantity_shipped (units),
-- promised_ship_date, inbound ETA (the latest ETA of its inbound shipments, null if none yet).
-- Params: $now, $entity_ids (a list, as in sku_cover).
with target as (
    select entity_id, split_part(entity_id, '@', 1) as sku
    from (select unnest($entity_ids::text[]) as entity_id)
),

progress as (
    select po_id, quantity_produced, quantity_shipped
    from po_progress
    where observed_at <= $now
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

arrivals as (
    select po_id, max(eta) as eta, bool_or(delivered_at is not null) as delivered
    from shipments
    where direction = 'inbound' and po_id is not null
    group by all
),

final as (
    select
        target.entity_id,
        po.po_id,
        po.supplier_id,
        sp.tier,
        po.warehouse_id,
        po.quantity_ordered,
        coalesce(pr.quantity_produced, 0) as quantity_produced,
        coalesce(pr.quantity_shipped, 0) as quantity_shipped,
        po.promised_ship_date,
        a.eta
    from purchase_orders as po
    inner join target on po.sku = target.sku
    left join suppliers as sp using (supplier_id)
    left join progress as pr using (po_id)
    left join arrivals as a using (po_id)
    where po.status in ('open', 'in_production', 'shipped')
      and po.ordered_at <= $now
      and not coalesce(a.delivered, false)
)

select * from final order by entity_id, coalesce(eta, promised_ship_date), po_id
