-- Orders per day by channel
-- Orders created in the window per UTC day and sales channel, with revenue.
-- Grain: one row per (day, channel). Units: orders, currency of the orders (revenue).
-- Uses $start, $end, $merchant, $channel, $market (null = all).
with filtered as (
    select date_trunc('day', created_at) as day, channel, total_price
    from orders
    where created_at >= $start and created_at < $end
      and cancelled_at is null
      and ($merchant is null or merchant_id = $merchant)
      and ($channel is null or channel = $channel)
      and ($market is null or market = $market)
),

final as (
    select day, channel, count(*) as orders, sum(total_price) as revenue
    from filtered
    group by all
)

select * from final
order by day, channel
