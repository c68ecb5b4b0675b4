-- Overview: the $limit sku × warehouse pairs closest to stockout as of min(end, now) (out of stock
--   first, then by hours to stockout at the last 4 hours' pace): stock_health_at's columns.
-- Params: end, now, market (the warehouse's), limit (rows, default 10).
select *
from stock_health_at(least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz), $market::text)
where hours_to_stockout is not null
order by hours_to_stockout, units_per_hour desc, sku, warehouse_id
limit greatest(coalesce($limit::integer, 10), 0)
