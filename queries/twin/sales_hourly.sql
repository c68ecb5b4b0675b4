-- Twin sales: units sold per SKU × market × warehouse × hour over the $hours hours before $at
-- (cancelled orders left out), what the observed uplift is measured on.
-- Grain: one row per SKU × market × warehouse × hour with a sale. Columns: sku, market,
-- warehouse_id, period_start, units. Params: $at, $hours.
select
    l.sku,
    o.market,
    o.warehouse_id,
    date_trunc('hour', o.created_at) as period_start,
    sum(l.quantity)::double as units
from orders as o
inner join order_lines as l using (order_id)
where o.created_at <= $at
  and o.created_at > $at::timestamptz - to_hours($hours::bigint)
  and (o.cancelled_at is null or o.cancelled_at > $at)
group by all
order by all
