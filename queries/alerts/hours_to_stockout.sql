-- Rule hours_to_stockout: stock that runs out within N hours at the current selling rate.
-- Grain: one row per sku × warehouse that sold at least $min_units units in the last
-- $rate_window_hours hours (orders created in (now − window, now], not cancelled by now) and whose
-- available / (units per hour) is below the per-SKU-class threshold: yellow below $yellow_hours,
-- red below $red_hours (JSON objects keyed by sku_class with a "default").
-- metric = hours to stockout; threshold = hours (the crossed one).
-- Params: $now, $rate_window_hours, $min_units, $yellow_hours, $red_hours.
with params as (
    select
        $now::timestamptz as now,
        $rate_window_hours::double as window_h,
        $min_units::double as min_units
),

latest as (
    select sku, warehouse_id, available
    from stock_observations, params
    where observed_at <= params.now
    qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1
),

sold as (
    select ol.sku, o.warehouse_id, sum(ol.quantity)::double as units
    from orders as o
    inner join order_lines as ol using (order_id)
    cross join params
    where o.created_at > params.now - to_seconds(params.window_h * 3600)
      and o.created_at <= params.now
      and (o.cancelled_at is null or o.cancelled_at > params.now)
    group by all
),

rated as (
    select
        l.sku,
        l.warehouse_id,
        coalesce(k.sku_class, 'default') as sku_class,
        greatest(l.available, 0) as available,
        s.units / params.window_h as units_per_hour,
        greatest(l.available, 0) / (s.units / params.window_h) as hours_left,
        coalesce(
            json_extract($yellow_hours, '$.' || k.sku_class)::double,
            json_extract($yellow_hours, '$.default')::double
        ) as yellow_h,
        coalesce(
            json_extract($red_hours, '$.' || k.sku_class)::double,
            json_extract($red_hours, '$.default')::double
        ) as red_h
    from latest as l
    inner join sold as s using (sku, warehouse_id)
    left join skus as k using (sku)
    cross join params
    where s.units >= params.min_units
),

final as (
    select
        case when hours_left < red_h then 'red' else 'yellow' end as severity,
        'sku_warehouse' as entity_type,
        sku || '@' || warehouse_id as entity_id,
        'Stockout in ' || floor(hours_left * 10) / 10 || ' h: ' || sku || ' at ' || warehouse_id as title,
        available || ' available, selling ' || round(units_per_hour, 1) || '/h ('
            || sku_class || ' threshold ' || yellow_h || ' h)' as detail,
        hours_left as metric,
        case when hours_left < red_h then red_h else yellow_h end as threshold
    from rated
    where hours_left < yellow_h
)

select * from final
