-- Rule on_time_rate: on-time delivery rate below target, per market, beyond sampling noise.
-- Grain: one row per market with at least $min_n orders delivered in the last $window_hours hours
-- whose on-time rate (the on_time_rate KPI) is below $yellow_target — the KPI's green target in
-- config/kpis.toml, per market (see market_target), bound by tower/alerts/settings.py — with confidence: the Wilson score upper
-- bound of the rate (z = $confidence_z) must be below the target too, so 37 of 40 on time (92.5 %,
-- could well be a 96 % lane having a bad day) stays quiet while 180 of 200 (90 %) does not.
-- Confidence only decides whether to alert; the severity is the shown rate against the targets:
-- red when it is below $red_target (an 88 % rate is red with red below 90 %, sure or not).
-- metric = on-time rate (%); threshold = the target crossed (%). Rates show rounded down to 0.1.
-- Params: $now, $window_hours, $min_n, $yellow_target, $red_target (from config/kpis.toml), $confidence_z.
with rates as (
    -- the KPI of the same name, per market (queries/kpi/on_time_rate.sql): one definition for tile and alert
    select
        k.dimension_value as market,
        k.n,
        k.value as rate,
        100 * wilson_upper(k.value / 100, k.n, $confidence_z::double) as upper,
        market_target($yellow_target, k.dimension_value) as yellow_t,
        market_target($red_target, k.dimension_value) as red_t
    from kpi_on_time_rate(
        $now::timestamptz - to_seconds($window_hours::double * 3600), $now::timestamptz,
        dimension := 'market'
    ) as k
),

final as (
    select
        case when r.rate < r.red_t then 'red' else 'yellow' end as severity,
        'market' as entity_type,
        coalesce(r.market, '?') as entity_id,
        'On-time delivery ' || floor(r.rate * 10) / 10 || ' % in ' || coalesce(r.market, '?') as title,
        r.n || ' orders delivered in the last ' || $window_hours || ' h; target '
            || r.yellow_t || ' %, red below ' || r.red_t || ' % (at best '
            || floor(r.upper * 10) / 10 || ' % allowing for chance)' as detail,
        r.rate as metric,
        case when r.rate < r.red_t then r.red_t else r.yellow_t end as threshold
    from rates as r
    where r.n >= $min_n::integer
      and r.upper < r.yellow_t
)

select * from final
