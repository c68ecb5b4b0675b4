-- Diagnosis affected_orders: the customer orders a late or troubled shipment puts at risk.
-- $entity_id is a shipment_id or a lane ('carrier:country', from the parcel_lanes rule).
-- Lane: the orders on that lane's undelivered parcels that are in trouble as parcel_lanes counts it
-- with its shipped settings (past the promise, else the ETA + 12 h; in Exception/AttemptFail; or no
-- scan for 36 h). Outbound shipment: the order it carries. Inbound: open (unfulfilled, not
-- cancelled) orders at the destination warehouse for the SKU of its purchase order. Oldest promise
-- first. Grain: one row per order (at most 50). Columns: order_id, order_number, merchant_id,
-- market, created_at, promised_delivery_at, hours_to_promise (h, negative = broken).
-- Params: $now, $entity_id.
with shipment as (
    select * from shipments where shipment_id = $entity_id
),

lane_parcels as (
    select s.*
    from shipments as s
    where s.direction = 'outbound'
      and lower(trim(s.carrier)) || ':' || upper(trim(coalesce(s.destination_country, '?'))) = $entity_id
      and s.delivered_at is null
      and s.created_at <= $now
      and (coalesce(s.promised_delivery_at, s.eta + interval 12 hour) < $now
           or s.tag in ('Exception', 'AttemptFail')
           or coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at) < $now::timestamptz - interval 36 hour)
),

outbound as (
    select o.*
    from orders as o
    inner join (select * from shipment union all select * from lane_parcels) as s
        on s.direction = 'outbound' and s.order_id = o.order_id
),

inbound as (
    select distinct o.*
    from shipment as s
    inner join purchase_orders as po on s.direction = 'inbound' and po.po_id = s.po_id
    inner join order_lines as ol on ol.sku = po.sku
    inner join orders as o on o.order_id = ol.order_id and o.warehouse_id = po.warehouse_id
    where o.fulfilled_at is null
      and o.cancelled_at is null
      and o.created_at <= $now
),

final as (
    select
        order_id,
        order_number,
        merchant_id,
        market,
        created_at,
        promised_delivery_at,
        round(epoch(promised_delivery_at - $now::timestamptz) / 3600, 1) as hours_to_promise
    from (select * from outbound union all select * from inbound)
)

select * from final order by promised_delivery_at nulls last limit 50
