-- Rule nps: Net Promoter Score below target, per market, beyond sampling noise.
-- Grain: one row per market with at least $min_n responses created in the last
-- $window_hours hours whose NPS (% promoters 9–10 − % detractors 0–6, −100…100) is below
-- $yellow_target (yellow) or $red_target (red) — numbers, or per-market objects with a "default"
-- (see market_target) — with confidence: NPS + $confidence_z standard errors must be below it.
-- Confidence only decides whether to alert; the severity is the shown NPS against the targets: red
-- when it is below $red_target.
-- metric = NPS points; threshold = target crossed. The title shows NPS rounded down.
-- Params: $now, $window_hours, $min_n, $yellow_target, $red_target, $confidence_z.
with rates as (
    -- the KPI of the same name, per market (queries/kpi/nps.sql): one definition for tile and alert
    select
        k.dimension_value as market,
        k.n,
        k.value as nps,
        nps_upper(k.promoters, k.detractors, k.n, $confidence_z::double) as upper,
        market_target($yellow_target, k.dimension_value) as yellow_t,
        market_target($red_target, k.dimension_value) as red_t
    from kpi_nps(
        $now::timestamptz - to_seconds($window_hours::double * 3600), $now::timestamptz,
        dimension := 'market'
    ) as k
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
    from rates as s
    where s.n >= $min_n::integer
      and s.upper < s.yellow_t
)

select * from final
