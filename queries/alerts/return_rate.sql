-- Rule return_rate: return rate above target, per market, beyond sampling noise.
-- Grain: one row per market whose cohort — orders delivered in the last $window_hours hours, at
-- least $min_n of them — has a share of orders with a return (created by $now, not rejected)
-- above $yellow_target (yellow) or $red_target (red) — numbers, or per-market objects with a
-- "default" (see market_target) — with confidence: the rate's Wilson lower bound
-- (z = $confidence_z) must be above the yellow target. Targets are percentages (8, as
-- config/kpis.toml writes them). Confidence only decides whether to alert; the severity is the shown
-- rate against the targets: red when it is above $red_target.
-- metric = return rate (%); threshold = the target crossed (%). Rates show rounded up to 0.1, so a
-- rate just above a target never reads as the target itself.
-- Params: $now, $window_hours, $min_n, $yellow_target, $red_target, $confidence_z.
with rates as (
    -- the KPI of the same name, per market (queries/kpi/return_rate.sql): one definition for tile and alert
    select
        k.dimension_value as market,
        k.n,
        k.value as rate,
        100 * wilson_lower(k.value / 100, k.n, $confidence_z::double) as lower,
        market_target($yellow_target, k.dimension_value) as yellow_t,
        market_target($red_target, k.dimension_value) as red_t
    from kpi_return_rate(
        $now::timestamptz - to_seconds($window_hours::double * 3600), $now::timestamptz,
        dimension := 'market'
    ) as k
),

final as (
    select
        case when r.rate > r.red_t then 'red' else 'yellow' end as severity,
        'market' as entity_type,
        coalesce(r.market, '?') as entity_id,
        'Return rate ' || ceil(r.rate * 10) / 10 || ' % in ' || coalesce(r.market, '?') as title,
        r.n || ' orders delivered in the last ' || $window_hours || ' h; target '
            || r.yellow_t || ' %, red above ' || r.red_t || ' % (at least '
            || floor(r.lower * 10) / 10 || ' % allowing for chance)' as detail,
        r.rate as metric,
        case when r.rate > r.red_t then r.red_t else r.yellow_t end as threshold
    from rates as r
    where r.n >= $min_n::integer
      and r.lower > r.yellow_t
)

select * from final
