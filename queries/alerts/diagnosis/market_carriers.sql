-- Diagnosis market_carriers: delivery and returns by carrier in the market in $entity_id over the
-- 7 days to $now. Grain: one row per carrier. Columns: carrier, delivered (orders), on_time_rate
-- (0–1), returned (orders with a return).
-- Params: $now, $entity_id.
with delivered as (
    select o.order_id, o.carrier, o.delivered_at <= o.promised_delivery_at as on_time
    from orders_with_delivery as o
    where o.market = $entity_id
      and o.delivered_at > $now::timestamptz - interval 7 day
      and o.delivered_at <= $now
),

final as (
    select
        coalesce(d.carrier, '?') as carrier,
        count(*) as delivered,
        round(avg(d.on_time::integer), 3) as on_time_rate,
        count(distinct r.order_id) as returned
    from delivered as d
    left join returns as r on r.order_id = d.order_id and r.created_at <= $now
    group by all
)

select * from final order by delivered desc
