-- Diagnosis node_exposure: inbound shipments in transit from the country of the node in
-- $entity_id (a congested or closed port/airport/hub), as of $now.
-- Grain: one row per shipment (at most 50). Columns: shipment_id, tracking_number, carrier, mode,
-- po_id, sku, warehouse_id, eta, hours_to_eta (h).
-- Params: $now, $entity_id.
with node as (
    select country from nodes where node_id = $entity_id
),

final as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.mode,
        s.po_id,
        po.sku,
        s.warehouse_id,
        s.eta,
        round(epoch(s.eta - $now::timestamptz) / 3600, 1) as hours_to_eta
    from shipments as s
    inner join node on s.origin_country = node.country
    left join purchase_orders as po using (po_id)
    where s.direction = 'inbound'
      and s.delivered_at is null
      and s.tag in ('InfoReceived', 'InTransit')
      and s.created_at <= $now
)

select * from final order by eta nulls last limit 50
