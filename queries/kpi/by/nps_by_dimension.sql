-- name: nps_by_dimension
-- label: Net Promoter Score by dimension
-- definition: Percent promoters (9–10) minus percent detractors (0–6) over responses received in the window; carrier, channel and warehouse come from the surveyed order, one row per value of the chosen dimension (same definition as
--   queries/kpi/nps.sql).
-- grain: one row per dimension value; window [start, min(end, now))
-- params: start, end, now, merchant, channel, market (NULL = all), dimension in ('carrier', 'market',
--   'merchant', 'channel', 'warehouse'); any other dimension returns no rows
-- returns: dimension_value ('(unknown)' when missing), value (−100…100), n (responses), promoters, detractors; sorted by n descending
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $dimension::text as dimension
),

responses as (
    select
        -- the grouping column is chosen by value, never by building SQL from input
        coalesce(case p.dimension
            when 'carrier' then o.carrier
            when 'market' then coalesce(r.market, o.market)
            when 'merchant' then coalesce(r.merchant_id, o.merchant_id)
            when 'channel' then o.channel
            when 'warehouse' then o.warehouse_id
        end, '(unknown)') as dimension_value,
        r.score
    from nps_responses r
    cross join params p
    left join orders_with_delivery o on o.order_id = r.order_id
    where r.created_at >= p.window_start
      and r.created_at < p.as_of
      and r.score between 0 and 10
      and p.dimension in ('carrier', 'market', 'merchant', 'channel', 'warehouse')
      and (p.merchant is null or coalesce(r.merchant_id, o.merchant_id) = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or coalesce(r.market, o.market) = p.market)
),

final as (
    select
        dimension_value,
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / count(*)
            as value,
        count(*) as n,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score <= 6) as detractors
    from responses
    group by dimension_value
)

select * from final order by n desc, dimension_value
