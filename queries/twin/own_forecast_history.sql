-- Tower forecast: units sold per SKU × market × completed hour in [$from, $until) (cancelled
-- orders left out), the history the forecast is fitted on. Hours without a sale are absent.
-- Grain: one row per SKU × market × hour with a sale. Columns: sku, market, hour, units.
-- Params: $from, $until.
select
    l.sku,
    o.market,
    date_trunc('hour', o.created_at) as hour,
    sum(l.quantity)::double as units
from orders as o
inner join order_lines as l using (order_id)
where o.created_at >= $from::timestamptz
  and o.created_at < $until::timestamptz
  and o.cancelled_at is null
  and l.sku is not null
  and o.market is not null
group by all
order by all
