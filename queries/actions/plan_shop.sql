-- Actions: the shop that sold most of $sku into $market over the week before $now (where a
-- storefront change for that SKU matters most). Grain: at most one row. Columns: merchant_id, units.
-- Params: $now, $sku, $market.
select o.merchant_id, sum(l.quantity) as units
from orders as o
join order_lines as l using (order_id)
where l.sku = $sku and o.market = $market
  and o.created_at > $now::timestamptz - interval 7 day and o.created_at <= $now::timestamptz
group by all
order by units desc, merchant_id
limit 1
