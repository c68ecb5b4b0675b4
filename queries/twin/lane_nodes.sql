-- Twin lane nodes: the ports, airports and hubs each lane passes, found by matching the checkpoints
-- of its shipments known by $at to a node within about 50 km in the same country, with when in the
-- trip they are passed (0 = at pick-up, 1 = at delivery, the mean over delivered shipments).
-- Grain: one row per supplier × warehouse × mode × node. Columns: supplier_id, warehouse_id, mode,
-- node_id, node_kind, position (0–1), passes (checkpoints matched). Params: $at.
with inbound as (
    select s.shipment_id, po.supplier_id, coalesce(s.warehouse_id, po.warehouse_id) as warehouse_id, s.mode,
           s.shipped_at, s.delivered_at
    from shipments as s
    inner join purchase_orders as po using (po_id)
    where s.direction = 'inbound' and s.created_at <= $at
),

passed as (
    select
        i.supplier_id, i.warehouse_id, i.mode, n.node_id, n.kind as node_kind,
        case when i.delivered_at <= $at and i.delivered_at > i.shipped_at
             then epoch(te.checkpoint_time - i.shipped_at) / epoch(i.delivered_at - i.shipped_at) end as position
    from inbound as i
    inner join tracking_events as te using (shipment_id)
    inner join nodes as n
        on n.country = te.country
       and abs(n.lat - te.lat) + abs(n.lon - te.lon) < 0.6
    where te.checkpoint_time <= $at and te.lat is not null
      and not (i.mode = 'truck' and n.kind <> 'hub')  -- a truck passes a port it is parked beside, not through it
),

final as (
    select supplier_id, warehouse_id, mode, node_id, node_kind,
           coalesce(least(greatest(avg(position), 0), 1), 0.5) as position, count(*) as passes
    from passed
    group by all
)

select * from final order by supplier_id, warehouse_id, mode, position
