-- Customers: the customer KPIs per time bucket over the window, for trend charts. Same definitions
--   as queries/kpi/{on_time_rate, delivery_speed_p50_hours, delivery_speed_p90_hours, nps,
--   return_rate, order_accuracy}.sql, bucketed by the event time each KPI uses (delivered_at,
--   shipped/fulfilled time, survey created_at).
-- Grain: one row per bucket ($bucket: 'hour' | 'day', truncated in UTC) in [start, min(end, now))
--   that has any delivery, shipment or survey.
-- Returns: bucket_start (UTC); on_time_rate (percent 0–100), on_time_n (delivered orders with a
--   promise); p50_hours / p90_hours (order → delivered, h), delivered_n; nps (−100…100), nps_n;
--   return_rate (percent of delivered orders with a not-rejected return), order_accuracy (percent,
--   1 − wrong item/damaged returns ÷ shipped orders), shipped_n.
-- Params: start, end, now, merchant, channel, market (NULL = all), bucket.
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        case when $bucket::text = 'hour' then 'hour' else 'day' end as bucket
),

filtered_orders as (
    select o.*
    from orders_with_delivery as o
    cross join params as p
    where (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

returned as (
    select distinct r.order_id
    from returns as r
    cross join params as p
    where r.created_at < p.as_of and coalesce(r.status, '') <> 'rejected'
),

inaccurate as (
    select distinct r.order_id
    from returns as r
    cross join params as p
    where r.created_at < p.as_of and coalesce(r.status, '') <> 'rejected'
      and r.reason in ('wrong_item', 'damaged')
),

delivered as (
    select
        date_trunc(p.bucket, o.delivered_at) as bucket_start,
        case when o.promised_delivery_at is not null then o.delivered_at <= o.promised_delivery_at end
            as on_time,
        case when o.created_at is not null
            then date_diff('second', o.created_at, o.delivered_at) / 3600.0 end as hours,
        r.order_id is not null as was_returned
    from filtered_orders as o
    cross join params as p
    left join returned as r using (order_id)
    where o.delivered_at >= p.window_start and o.delivered_at < p.as_of
),

shipped as (
    select
        date_trunc(p.bucket, coalesce(o.shipped_at, o.fulfilled_at)) as bucket_start,
        i.order_id is not null as was_inaccurate
    from filtered_orders as o
    cross join params as p
    left join inaccurate as i using (order_id)
    where coalesce(o.shipped_at, o.fulfilled_at) >= p.window_start
      and coalesce(o.shipped_at, o.fulfilled_at) < p.as_of
),

responses as (
    select date_trunc(p.bucket, r.created_at) as bucket_start, r.score
    from nps_responses as r
    cross join params as p
    left join orders_with_delivery as o on o.order_id = r.order_id
    where r.created_at >= p.window_start and r.created_at < p.as_of
      and r.score between 0 and 10
      and (p.merchant is null or coalesce(r.merchant_id, o.merchant_id) = p.merchant)
      and (p.market is null or coalesce(r.market, o.market) = p.market)
      and (p.channel is null or o.channel = p.channel)
),

delivery_stats as (
    select
        bucket_start,
        100.0 * count(*) filter (where on_time) / nullif(count(on_time), 0) as on_time_rate,
        count(on_time) as on_time_n,
        quantile_cont(hours, 0.50) as p50_hours,
        quantile_cont(hours, 0.90) as p90_hours,
        count(*) as delivered_n,
        100.0 * count(*) filter (where was_returned) / count(*) as return_rate
    from delivered
    group by bucket_start
),

shipped_stats as (
    select
        bucket_start,
        100.0 * (1 - count(*) filter (where was_inaccurate) / count(*)) as order_accuracy,
        count(*) as shipped_n
    from shipped
    group by bucket_start
),

nps_stats as (
    select
        bucket_start,
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / count(*) as nps,
        count(*) as nps_n
    from responses
    group by bucket_start
),

buckets as (
    select bucket_start from delivery_stats
    union
    select bucket_start from shipped_stats
    union
    select bucket_start from nps_stats
),

final as (
    select
        b.bucket_start,
        d.on_time_rate,
        coalesce(d.on_time_n, 0) as on_time_n,
        d.p50_hours,
        d.p90_hours,
        coalesce(d.delivered_n, 0) as delivered_n,
        n.nps,
        coalesce(n.nps_n, 0) as nps_n,
        d.return_rate,
        s.order_accuracy,
        coalesce(s.shipped_n, 0) as shipped_n
    from buckets as b
    left join delivery_stats as d using (bucket_start)
    left join shipped_stats as s using (bucket_start)
    left join nps_stats as n using (bucket_start)
)

select * from final
order by bucket_start
