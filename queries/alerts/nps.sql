-- Rule nps: Net Promoter Score below target, per market, beyond sampling noise.
-- Grain: one row per market with at least $min_responses responses created in the last
-- $window_hours hours whose NPS (% promoters 9–10 − % detractors 0–6, −100…100) is below
-- $yellow_target (yellow) or $red_target (red) — numbers, or per-market objects with a "default"
-- (see market_target) — with confidence: NPS + $confidence_z standard errors must be below it.
-- Confidence only decides whether to alert; the severity is the shown NPS against the targets: red
-- when it is below $red_target.
-- metric = NPS points; threshold = target crossed. The title shows NPS rounded down.
-- Params: $now, $window_hours, $min_responses, $yellow_target, $red_target, $confidence_z.
with params as (
    select
        $now::timestamptz as now,
        $now::timestamptz - to_seconds($window_hours::double * 3600) as since,
        $min_responses::integer as min_n
),

scores as (
    select
        r.market,
        count(*) as n,
        100.0 * (avg((r.score >= 9)::integer) - avg((r.score <= 6)::integer)) as nps,
        nps_upper(count(*) filter (r.score >= 9), count(*) filter (r.score <= 6), count(*),
                  $confidence_z::double) as upper,
        market_target($yellow_target, r.market) as yellow_t,
        market_target($red_target, r.market) as red_t
    from nps_responses as r
    cross join params
    where r.created_at > params.since
      and r.created_at <= params.now
      and r.score between 0 and 10
    group by all
),

final as (
    select
        case when s.nps < s.red_t then 'red' else 'yellow' end as severity,
        'market' as entity_type,
        coalesce(s.market, '?') as entity_id,
        'NPS ' || floor(s.nps)::integer || ' in ' || coalesce(s.market, '?') as title,
        s.n || ' responses in the last ' || $window_hours || ' h; target ' || s.yellow_t as detail,
        s.nps as metric,
        case when s.nps < s.red_t then s.red_t else s.yellow_t end as threshold
    from scores as s
    cross join params
    where s.n >= params.min_n
      and s.upper < s.yellow_t
)

select * from final
