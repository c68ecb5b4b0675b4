-- Twin lanes: how goods travel from each supplier to each warehouse, learned from inbound shipments
-- known by $at: per supplier × warehouse × mode, the shipments seen, the transit times of those
-- delivered by $at (shipped → delivered, hours) and the share of shipments of the lane.
-- Grain: one row per supplier × warehouse × mode with an inbound shipment. Columns: supplier_id,
-- warehouse_id, mode, shipments, transit_samples (list of hours). Params: $at.
with inbound as (
    select s.shipment_id, po.supplier_id, coalesce(s.warehouse_id, po.warehouse_id) as warehouse_id, s.mode,
           s.shipped_at, s.delivered_at
    from shipments as s
    inner join purchase_orders as po using (po_id)
    where s.direction = 'inbound' and s.created_at <= $at
),

final as (
    select
        supplier_id,
        warehouse_id,
        mode,
        count(*) as shipments,
        coalesce(list(epoch(delivered_at - shipped_at) / 3600 order by shipment_id)
            filter (where delivered_at <= $at and shipped_at is not null and delivered_at > shipped_at), [])
            as transit_samples
    from inbound
    group by all
)

select * from final order by supplier_id, warehouse_id, mode
