-- Customers: returns by reason among orders delivered in [start, min(end, now)) (the return-rate
--   cohort of queries/kpi/return_rate.sql), returns opened before that moment and not rejected.
-- Params: start, end, now, merchant, channel, market (NULL = all).
-- Returns: reason ('(unknown)' when missing), returned_orders, returned_units, rate_pct (returned
--   orders ÷ delivered orders, %), share_pct (of returned units, %), delivered_orders.
with cohort as (
    select order_id
    from order_facts(
        least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz),
        $merchant::text, $channel::text, $market::text, null, null, null
    )
    where delivered_at >= coalesce($start::timestamptz, '-infinity'::timestamptz)
),

returned as (
    select coalesce(r.reason, '(unknown)') as reason, r.order_id, coalesce(r.quantity, 0) as quantity
    from returns r
    join cohort c using (order_id)
    where r.created_at < least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz)
      and coalesce(r.status, '') <> 'rejected'
)

select
    reason,
    count(distinct order_id) as returned_orders,
    sum(quantity)::bigint as returned_units,
    100.0 * count(distinct order_id) / (select count(*) from cohort) as rate_pct,
    100.0 * sum(quantity) / nullif(sum(sum(quantity)) over (), 0) as share_pct,
    (select count(*) from cohort) as delivered_orders
from returned
group by reason
order by returned_orders desc, reason
