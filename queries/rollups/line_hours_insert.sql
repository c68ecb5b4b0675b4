-- rollup_line_hours for the order hours $hours (every hour when $all): the lines line_facts counts,
-- per SKU and the order's dimensions, read from rollup_lines (current before this runs: the same
-- writes keep both); lines and units leave out orders cancelled now, and settled_at (newest order or
-- cancellation time) tells from which "as of" on that equals line_facts. The bare range on the time
-- column (first to last hour asked) lets DuckDB skip row groups: a sync's refresh of the running
-- hour reads that hour's lines, not every line joined to every order.
insert into rollup_line_hours
select
    date_trunc('hour', created_at) as hour,
    sku, merchant_id, channel, market, warehouse_id,
    count(*) filter (where cancelled_at is null) as lines,
    coalesce(sum(quantity) filter (where cancelled_at is null), 0)::bigint as units,
    greatest(max(created_at), max(cancelled_at)) as settled_at
from rollup_lines
where created_at is not null
  and ($all::boolean or created_at >= list_min($hours::timestamptz[])
      and created_at < list_max($hours::timestamptz[]) + interval 1 hour
      and date_trunc('hour', created_at) in (select unnest($hours::timestamptz[])))
group by all
-- stored in time order (a rebuild writes every hour at once), so a window's read skips row
-- groups by their min/max hour
order by hour;
