-- name: trend/nps
-- label: Net Promoter Score trend
-- label_zh: 净推荐值趋势
-- definition: Percent promoters (9–10) minus percent detractors (0–6) over responses received per hour or day (same definition as queries/kpi/nps.sql, each bucket
--   on its own).
-- grain: one row per UTC bucket from the bucket of start (or 48 h / 30 d before the moment) to
--   min(end, now); the first bucket may begin before start and the last one is partial
-- params: start, end, now, merchant, channel, market (NULL = all), bucket ('hour' | 'day')
-- returns: bucket_start, value (−100…100, NULL in a bucket without responses), n (responses)
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

responses as (
    select date_trunc(p.bucket, r.created_at) as bucket_start, r.score
    from nps_responses r
    cross join params p
    cross join bounds b
    left join orders o on o.order_id = r.order_id
    where r.created_at >= b.first_bucket
      and r.created_at < p.as_of
      and r.score between 0 and 10
      and (p.merchant is null or coalesce(r.merchant_id, o.merchant_id) = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or coalesce(r.market, o.market) = p.market)
),

final as (
    select
        k.bucket_start,
        100.0 * (count(r.score) filter (where r.score >= 9) - count(r.score) filter (where r.score <= 6))
            / nullif(count(r.score), 0) as value,
        count(r.score) as n
    from buckets k
    left join responses r using (bucket_start)
    group by k.bucket_start
)

select * from final order by bucket_start
