-- Twin pipeline: what is still to arrive at the warehouses as known at $at — purchase orders not
-- fully shipped (remaining units, when ordered, promised ship date) and inbound shipments under way
-- (units, when shipped, ETA). An inbound shipment carries the units its PO had shipped by $at.
-- Grain: one row per open PO remainder (kind 'po') or per inbound shipment under way (kind
-- 'shipment'). Columns: kind, ref (po_id or shipment_id), po_id, supplier_id, sku, warehouse_id,
-- mode (shipment's mode, NULL for a PO), units, ordered_at, promised_ship_date, shipped_at, eta.
-- Params: $at.
with progress as (
    select po_id, quantity_shipped
    from po_progress
    where observed_at <= $at
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

pos as (
    select po.*, coalesce(pr.quantity_shipped, 0) as shipped_units
    from purchase_orders as po
    left join progress as pr using (po_id)
    where po.ordered_at <= $at and po.status <> 'cancelled'
),

shipment_counts as (
    select po_id, count(*) as n
    from shipments
    where direction = 'inbound' and created_at <= $at
    group by all
),

under_way as (
    select
        'shipment' as kind, s.shipment_id as ref, s.po_id, p.supplier_id, p.sku,
        coalesce(s.warehouse_id, p.warehouse_id) as warehouse_id, s.mode,
        greatest(coalesce(nullif(p.shipped_units, 0), p.quantity_ordered) / c.n, 0)::double as units,
        p.ordered_at, p.promised_ship_date, coalesce(s.shipped_at, s.created_at) as shipped_at, s.eta
    from shipments as s
    inner join pos as p using (po_id)
    inner join shipment_counts as c using (po_id)
    where s.direction = 'inbound' and s.created_at <= $at
      and (s.delivered_at is null or s.delivered_at > $at)
),

to_ship as (
    select
        'po' as kind, po_id as ref, po_id, supplier_id, sku, warehouse_id, null as mode,
        (quantity_ordered - shipped_units)::double as units,
        ordered_at, promised_ship_date, null::timestamptz as shipped_at, null::timestamptz as eta
    from pos
    where status not in ('closed', 'shipped') and quantity_ordered > shipped_units
)

select * from under_way
union all
select * from to_ship
order by kind, ref
