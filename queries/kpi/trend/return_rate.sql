-- name: trend/return_rate
-- label: Return rate trend
-- label_zh: 退货率趋势
-- definition: Share of orders delivered in the bucket with a (not rejected) return request opened before the moment, in percent, per hour or day (same definition as queries/kpi/return_rate.sql, each bucket
--   on its own).
-- grain: one row per UTC bucket from the bucket of start (or 48 h / 30 d before the moment) to
--   min(end, now); the first bucket may begin before start and the last one is partial
-- params: start, end, now, merchant, channel, market (NULL = all), bucket ('hour' | 'day')
-- returns: bucket_start, value (percent, NULL in a bucket without deliveries), n (delivered orders)
with params as (
    select
        -- only 'hour' or 'day'; anything else is read as 'day'
        case when $bucket = 'hour' then 'hour' else 'day' end as bucket,
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,
        $merchant::text as merchant,
        $channel::text  as channel,
        $market::text   as market
),

-- every bucket of the window, so quiet hours show as gaps (n = 0) rather than vanish;
-- without a start: the last 48 hours (hourly) or 30 days (daily)
buckets as (
    select unnest(generate_series(
        date_trunc(p.bucket, coalesce(p.window_start,
            p.as_of - case p.bucket when 'hour' then interval 48 hour else interval 30 day end)),
        p.as_of - interval 1 microsecond,
        case p.bucket when 'hour' then interval 1 hour else interval 1 day end
    )) as bucket_start
    from params p
),

bounds as (
    select min(bucket_start) as first_bucket from buckets
),

cohort as (
    select date_trunc(p.bucket, o.delivered_at) as bucket_start, o.order_id
    from orders_with_delivery o
    cross join params p
    cross join bounds b
    where o.delivered_at >= b.first_bucket
      and o.delivered_at < p.as_of
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
),

returned as (
    select distinct r.order_id
    from returns r
    cross join params p
    where r.created_at < p.as_of
      and coalesce(r.status, '') <> 'rejected'
),

final as (
    select
        k.bucket_start,
        100.0 * count(r.order_id) / nullif(count(c.order_id), 0) as value,
        count(c.order_id) as n
    from buckets k
    left join cohort c using (bucket_start)
    left join returned r on r.order_id = c.order_id
    group by k.bucket_start
)

select * from final order by bucket_start
