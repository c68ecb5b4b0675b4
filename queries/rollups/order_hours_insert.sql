-- rollup_order_hours for the delivery hours $delivered and shipment hours $shipped (every hour when
-- $all), from rollup_orders (which must be current). The flags are order_facts' at an "as of" after
-- everything counted: on_time = delivered by the promise, otif = on time and no wrong-item/damaged
-- return, returned / inaccurate = such a return exists. settled_at is the newest time any of that
-- depends on, so a reader knows from which "as of" on the row equals the raw facts. The bare range
-- on the time column (first to last hour asked) lets DuckDB skip row groups.
insert into rollup_order_hours
select
    'delivered' as basis, date_trunc('hour', delivered_at) as hour,
    merchant_id, channel, market, warehouse_id, carrier,
    count(*) as orders,
    count(promised_delivery_at) as promised,
    count(*) filter (where delivered_at <= promised_delivery_at) as on_time,
    count(*) filter (where delivered_at <= promised_delivery_at and inaccurate_at is null) as otif,
    count(returned_at) as returned,
    count(inaccurate_at) as inaccurate,
    greatest(max(created_at), max(delivered_at), max(returned_at), max(inaccurate_at)) as settled_at
from rollup_orders
where delivered_at is not null and created_at is not null
  and ($all::boolean or delivered_at >= list_min($delivered::timestamptz[])
      and delivered_at < list_max($delivered::timestamptz[]) + interval 1 hour
      and date_trunc('hour', delivered_at) in (select unnest($delivered::timestamptz[])))
group by all

union all

select
    'shipped', date_trunc('hour', shipped_at),
    merchant_id, channel, market, warehouse_id, carrier,
    count(*), 0, 0, 0,
    count(returned_at),
    count(inaccurate_at),
    greatest(max(created_at), max(shipped_at), max(returned_at), max(inaccurate_at))
from rollup_orders
where shipped_at is not null and created_at is not null
  and ($all::boolean or shipped_at >= list_min($shipped::timestamptz[])
      and shipped_at < list_max($shipped::timestamptz[]) + interval 1 hour
      and date_trunc('hour', shipped_at) in (select unnest($shipped::timestamptz[])))
group by all
-- stored in time order (a rebuild writes every hour at once), so a window's read skips row
-- groups by their min/max hour
order by hour;
