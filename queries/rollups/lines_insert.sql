-- Per-line rows of rollup_lines for the orders in `orders` (every order when $all): the lines
-- line_facts joins to their order, in order of placing so a time range reads few row groups.
insert into rollup_lines
select l.order_id, l.line_id, l.sku, l.quantity, o.created_at, o.cancelled_at,
    o.merchant_id, o.channel, o.market, o.warehouse_id
from order_lines l
join orders o using (order_id)
where $all::boolean or l.order_id in ({orders})
order by o.created_at;
