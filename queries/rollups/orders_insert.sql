-- Per-order rows of rollup_orders for the orders in `orders` (every order when $all), from the raw
-- orders, their newest outbound shipment and their returns. The newest-shipment rule is the one of
-- the orders_with_delivery view (queries/kpi/_facts.sql): newest by updated_at, ties by shipment id.
-- Only the returns that order_facts counts (not rejected, with a request time) give returned_at /
-- inaccurate_at, at the earliest such request, so "returned as of T" is `returned_at < T`.
insert into rollup_orders
with delivery as (
    select order_id, carrier, shipped_at, delivered_at
    from shipments
    where direction = 'outbound' and order_id is not null
      and ($all::boolean or order_id in ({orders}))
    qualify row_number() over (partition by order_id order by updated_at desc, shipment_id desc) = 1
),

returned as (
    select
        order_id,
        min(created_at) as returned_at,
        min(created_at) filter (where reason in ('wrong_item', 'damaged')) as inaccurate_at
    from returns
    where coalesce(status, '') <> 'rejected' and created_at is not null and order_id is not null
      and ($all::boolean or order_id in ({orders}))
    group by order_id
)

select
    o.order_id, o.merchant_id, o.channel, o.market, o.warehouse_id, s.carrier,
    o.created_at, o.promised_delivery_at,
    coalesce(s.shipped_at, o.fulfilled_at) as shipped_at,
    s.delivered_at, r.returned_at, r.inaccurate_at
from orders o
left join delivery s using (order_id)
left join returned r using (order_id)
where $all::boolean or o.order_id in ({orders})
order by coalesce(s.delivered_at, o.created_at);
