-- rollup_line_hours for the order hours $hours (every hour when $all): the lines line_facts counts,
-- per SKU and the order's dimensions; lines and units leave out orders cancelled now, and settled_at
-- (newest order or cancellation time) tells from which "as of" on that equals line_facts.
insert into rollup_line_hours
select
    date_trunc('hour', o.created_at) as hour,
    l.sku, o.merchant_id, o.channel, o.market, o.warehouse_id,
    count(*) filter (where o.cancelled_at is null) as lines,
    coalesce(sum(l.quantity) filter (where o.cancelled_at is null), 0)::bigint as units,
    greatest(max(o.created_at), max(o.cancelled_at)) as settled_at
from order_lines l
join orders o using (order_id)
where o.created_at is not null
  and ($all::boolean or date_trunc('hour', o.created_at) in (select unnest($hours::timestamptz[])))
group by all
-- stored in time order (a rebuild writes every hour at once), so a window's read skips row
-- groups by their min/max hour
order by hour;
