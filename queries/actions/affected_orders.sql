-- Actions: open orders of $shop for $sku into $market placed in the $hours before $now and not yet
-- handed to a carrier: the buyers a late promise affects. Grain: one row per order (at most 500).
-- Columns: order_id, created_at. Params: $now, $shop, $sku, $market, $hours.
select distinct o.order_id, o.created_at
from orders as o
join order_lines as l using (order_id)
where l.sku = $sku and o.market = $market and o.merchant_id = $shop
  and o.created_at <= $now::timestamptz
  and o.created_at > $now::timestamptz - to_seconds($hours * 3600)
  and o.fulfilled_at is null and o.cancelled_at is null
order by o.created_at desc, o.order_id
limit 500
