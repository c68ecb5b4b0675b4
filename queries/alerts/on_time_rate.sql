-- Rule on_time_rate: on-time delivery rate below target, per market, beyond sampling noise.
-- Grain: one row per market with at least $min_orders orders delivered in the last $window_hours
-- hours (delivered_at in (now − window, now]) whose share delivered by promised_delivery_at, in
-- percent, is below $yellow_target — a percentage (95, as config/kpis.toml writes targets), or a
-- per-market object with a "default" (see market_target) — with confidence: the Wilson score upper
-- bound of the rate (z = $confidence_z) must be below the target too, so 37 of 40 on time (92.5 %,
-- could well be a 96 % lane having a bad day) stays quiet while 180 of 200 (90 %) does not.
-- Confidence only decides whether to alert; the severity is the shown rate against the targets:
-- red when it is below $red_target (an 88 % rate is red with red below 90 %, sure or not).
-- metric = on-time rate (%); threshold = the target crossed (%). Rates show rounded down to 0.1.
-- Params: $now, $window_hours, $min_orders, $yellow_target, $red_target, $confidence_z.
with params as (
    select
        $now::timestamptz as now,
        $now::timestamptz - to_seconds($window_hours::double * 3600) as since,
        $min_orders::integer as min_orders
),

delivered as (
    select o.market, o.delivered_at <= o.promised_delivery_at as on_time
    from orders_with_delivery as o
    cross join params
    where o.delivered_at > params.since
      and o.delivered_at <= params.now
      and o.promised_delivery_at is not null
),

rates as (
    select
        market,
        count(*) as n,
        100 * avg(on_time::integer) as rate,
        100 * wilson_upper(avg(on_time::integer), count(*), $confidence_z::double) as upper,
        market_target($yellow_target, market) as yellow_t,
        market_target($red_target, market) as red_t
    from delivered
    group by all
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
    cross join params
    where r.n >= params.min_orders
      and r.upper < r.yellow_t
)

select * from final
