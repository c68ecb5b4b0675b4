-- Rule demand_surge: sales running at or above a percentage of forecast (150 % is the surge trigger).
-- Grain: one row per sku × market where units sold in the last $window_hours hours (orders created
-- in (now − window, now], not cancelled by now) reach $yellow_percent % of the forecast for the same
-- span (hourly forecasts pro-rated by overlap); red at $red_percent %. Pairs whose forecast for the
-- span is below $min_forecast_units are skipped (too small to judge).
-- metric = sold as % of forecast; threshold = the percentage crossed (same unit as the config).
-- The title shows the percentage rounded down, so it never shows a line the severity has not crossed
-- (199.6 % is yellow and reads "199 %", not "200 %").
-- Params: $now, $window_hours, $yellow_percent, $red_percent, $min_forecast_units.
with params as (
    select
        $now::timestamptz as now,
        $now::timestamptz - to_seconds($window_hours::double * 3600) as since,
        $yellow_percent::double as yellow_pct,
        $red_percent::double as red_pct,
        $min_forecast_units::double as min_forecast
),

sold as (
    -- the lines with their order (rollup_lines, placed in time order: a 3-h window reads a few row
    -- groups), or the raw orders and lines on a connection that asked for the raw facts
    select l.sku, l.market, sum(l.quantity)::double as units
    from rollup_lines as l
    cross join params
    where not kpi_raw_only()
      and l.created_at > params.since
      and l.created_at <= params.now
      and not coalesce(l.cancelled_at <= params.now, false)
    group by all

    union all

    select ol.sku, o.market, sum(ol.quantity)::double as units
    from orders as o
    inner join order_lines as ol using (order_id)
    cross join params
    where kpi_raw_only()
      and o.created_at > params.since
      and o.created_at <= params.now
      and (o.cancelled_at is null or o.cancelled_at > params.now)
    group by all
),

planned as (
    select
        f.sku,
        f.market,
        sum(
            f.units * greatest(
                0,
                epoch(least(f.period_start + interval 1 hour, params.now))
                - epoch(greatest(f.period_start, params.since))
            ) / 3600
        ) as units
    from forecasts as f
    cross join params
    where f.period_start < params.now
      and f.period_start > params.since - interval 1 hour  -- (= ends after it; a bare column reads fewer row groups)
    group by all
),

compared as (
    select
        p.sku,
        p.market,
        coalesce(s.units, 0) as sold,
        p.units as forecast,
        100 * coalesce(s.units, 0) / p.units as pct
    from planned as p
    left join sold as s using (sku, market)
    cross join params
    where p.units >= params.min_forecast
),

final as (
    select
        case when c.pct >= params.red_pct then 'red' else 'yellow' end as severity,
        'sku_market' as entity_type,
        c.sku || '@' || c.market as entity_id,
        'Demand surge: ' || c.sku || ' in ' || c.market || ' at '
            || floor(c.pct)::bigint || ' % of forecast' as title,
        round(c.sold) || ' sold vs ' || round(c.forecast, 1) || ' forecast in the last '
            || $window_hours || ' h' as detail,
        c.pct as metric,
        case when c.pct >= params.red_pct then params.red_pct else params.yellow_pct end as threshold
    from compared as c
    cross join params
    where c.pct >= params.yellow_pct
)

select * from final
