-- Rule on_time_rate: on-time delivery rate below target, per market.
-- Grain: one row per market with at least $min_orders orders delivered in the last $window_hours
-- hours (delivered_at in (now − window, now]) whose share delivered by promised_delivery_at is
-- below $yellow_target (yellow) or $red_target (red).
-- metric = on-time rate (0–1); threshold = the target crossed (0–1).
-- Params: $now, $window_hours, $min_orders, $yellow_target, $red_target.
with params as (
    select
        $now::timestamptz as now,
        $now::timestamptz - to_seconds($window_hours::double * 3600) as since,
        $min_orders::integer as min_orders,
        $yellow_target::double as yellow_t,
        $red_target::double as red_t
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
    select market, count(*) as n, avg(on_time::integer) as rate
    from delivered
    group by all
),

final as (
    select
        case when r.rate < params.red_t then 'red' else 'yellow' end as severity,
        'market' as entity_type,
        coalesce(r.market, '?') as entity_id,
        'On-time delivery ' || round(r.rate * 100, 1) || ' % in ' || coalesce(r.market, '?') as title,
        r.n || ' orders delivered in the last ' || $window_hours || ' h; target '
            || round(params.yellow_t * 100) || ' %' as detail,
        r.rate as metric,
        case when r.rate < params.red_t then params.red_t else params.yellow_t end as threshold
    from rates as r
    cross join params
    where r.n >= params.min_orders
      and r.rate < params.yellow_t
)

select * from final
