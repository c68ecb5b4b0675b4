-- name: return_rate_by_reason
-- label: Returns by reason
-- label_zh: 按原因统计退货
-- definition: For orders delivered in the window (the return-rate cohort): per return reason, the
--   orders and units returned and the rate against all delivered orders of the cohort.
-- grain: one row per reason; cohort = orders delivered in [start, min(end, now)); returns opened
--   before min(end, now), not rejected
-- params: start, end, now, merchant, channel, market (NULL = all)
-- returns: reason ('(unknown)' when missing), returned_orders, returned_units, rate_pct (returned
--   orders ÷ delivered orders, percent), share_pct (of all returned units in the cohort),
--   delivered_orders; an order returned for two reasons counts under both
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text as merchant,
        $channel::text  as channel,
        $market::text   as market
),

cohort as (
    select o.order_id
    from orders_with_delivery o
    cross join params p
    where o.delivered_at >= p.window_start
      and o.delivered_at < p.as_of
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

returned as (
    select coalesce(r.reason, '(unknown)') as reason, r.order_id, coalesce(r.quantity, 0) as quantity
    from returns r
    join cohort c using (order_id)
    cross join params p
    where r.created_at < p.as_of
      and coalesce(r.status, '') <> 'rejected'
),

final as (
    select
        reason,
        count(distinct order_id) as returned_orders,
        sum(quantity)::bigint as returned_units,
        100.0 * count(distinct order_id) / (select count(*) from cohort) as rate_pct,
        100.0 * sum(quantity) / nullif(sum(sum(quantity)) over (), 0) as share_pct,
        (select count(*) from cohort) as delivered_orders
    from returned
    group by reason
)

select * from final order by returned_orders desc, reason
