-- Diagnosis affected_orders: the customer orders a late or troubled shipment puts at risk.
-- $entity_id is a shipment_id. Outbound: the order it carries. Inbound: open (unfulfilled, not
-- cancelled) orders at the destination warehouse for the SKU of its purchase order, oldest
-- promise first. Grain: one row per order (at most 50). Columns: order_id, order_number,
-- merchant_id, market, created_at, promised_delivery_at, hours_to_promise (h, negative = broken).
-- Params: $now, $entity_id.
with shipment as (
    select * from shipments where shipment_id = $entity_id
),

outbound as (
    select o.*
    from orders as o
    inner join shipment as s on s.direction = 'outbound' and s.order_id = o.order_id
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
