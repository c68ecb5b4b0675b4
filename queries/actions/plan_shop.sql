-- Actions: the shop that sold most of $sku into $market over the week before $now (where a
-- storefront change for that SKU matters most). Grain: at most one row. Columns: merchant_id, units.
-- Params: $now, $sku, $market.
-- Reads rollup_lines (order lines with their order's shop, market and time, kept with every orders
-- write): the automatic pass asks this for each triggered alert, and the orders × order_lines join
-- took 27 ms a call at the reference scale against 2.5 ms here.
select merchant_id, sum(quantity) as units
from rollup_lines
where sku = $sku and market = $market
  and created_at > $now::timestamptz - interval 7 day and created_at <= $now::timestamptz
group by all
order by units desc, merchant_id
limit 1
