-- On-time delivery rate by carrier
-- Delivered orders in the window (by order creation time) whose shipment arrived by the promised
-- time, per carrier. Grain: one row per carrier. Units: orders, ratio 0–1 (on_time_rate).
-- Uses the sidebar filters: $start, $end, $merchant, $channel, $market (null = all).
with delivered as (
    select carrier, delivered_at <= promised_delivery_at as on_time
    from orders_with_delivery
    where delivered_at is not null
      and promised_delivery_at is not null
      and created_at >= $start and created_at < $end
      and ($merchant is null or merchant_id = $merchant)
      and ($channel is null or channel = $channel)
      and ($market is null or market = $market)
),

final as (
    select
        coalesce(carrier, 'unknown') as carrier,
        count(*) as delivered_orders,
        count(*) filter (where on_time) as on_time_orders,
        round(count(*) filter (where on_time) / count(*), 4) as on_time_rate
    from delivered
    group by all
)

select * from final
order by delivered_orders desc
