-- Tower forecast: each warehouse's share of a SKU × market's units sold over [$from, $until), to
-- spread a SKU × market forecast over the warehouses serving that market.
-- Columns: sku, market, warehouse_id, share. Params: $from, $until.
with sold as (
    select l.sku, o.market, o.warehouse_id, sum(l.quantity)::double as units
    from orders as o
    inner join order_lines as l using (order_id)
    where o.created_at >= $from::timestamptz
      and o.created_at < $until::timestamptz
      and o.cancelled_at is null
    group by all
)
select sku, market, warehouse_id, units / nullif(sum(units) over (partition by sku, market), 0) as share
from sold
order by all
