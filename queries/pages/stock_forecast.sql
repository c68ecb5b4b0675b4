-- Stock page: for one SKU × warehouse, Tower's own forecast of the warehouse's market beside the
-- supplied plan (forecasts table), hour by hour from $now on for $hours hours.
-- Columns: hour, mean, lo80, hi80, lo95, hi95, model, fitted_at, plan_units, market.
-- Params: $sku, $warehouse_id, $now, $hours.
with wh as (
    select market from warehouses where warehouse_id = $warehouse_id::text
),
own as (
    select f.*
    from twin_forecasts as f
    where f.sku = $sku::text
      and f.market = (select market from wh)
      and f.hour >= date_trunc('hour', $now::timestamptz)
      and f.hour < date_trunc('hour', $now::timestamptz) + to_hours($hours::bigint)
),
plan as (
    select p.period_start as hour, sum(p.units) as plan_units
    from forecasts as p
    where p.sku = $sku::text
      and p.market = (select market from wh)
      and p.period_start >= date_trunc('hour', $now::timestamptz)
      and p.period_start < date_trunc('hour', $now::timestamptz) + to_hours($hours::bigint)
    group by all
)
select coalesce(own.hour, plan.hour) as hour, own.mean, own.lo80, own.hi80, own.lo95, own.hi95,
       own.model, own.fitted_at, plan.plan_units, (select market from wh) as market
from own
full outer join plan on own.hour = plan.hour
order by 1
