-- Rule hours_to_stockout: stock that runs out within N hours at the current selling rate.
-- Grain: one row per sku × warehouse of stock_health_at (queries/kpi/_facts.sql), the per-pair facts
-- of the hours_to_stockout KPI: in stock, selling at least $min_units units over the last 4 hours,
-- and whose runway (available ÷ units per hour over those 4 hours) is below the per-SKU-class
-- threshold: yellow below $yellow_hours, red below $red_hours (JSON objects keyed by sku_class with a
-- "default").
-- metric = hours to stockout; threshold = hours (the crossed one).
-- Params: $now, $min_units, $yellow_hours, $red_hours.
with rated as (
    select
        h.sku,
        h.warehouse_id,
        coalesce(h.sku_class, 'default') as sku_class,
        h.available,
        h.units_per_hour,
        h.hours_to_stockout as hours_left,
        threshold_for($yellow_hours, h.sku_class) as yellow_h,   -- 009_shared_query_macros.sql
        threshold_for($red_hours, h.sku_class) as red_h
    from stock_health_at($now::timestamptz, null) as h
    where h.available > 0
      and h.units_per_hour * 4 >= $min_units::double
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
