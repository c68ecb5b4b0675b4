-- hourly: demand and delivery per hour on an event-relative axis — hour 0 starts at $anchor (the
-- event start), −3 is three hours before it — so two events (or an event and its baseline) overlay.
-- grain: one row per hour offset that had orders or deliveries in [$start, min($end, $now));
--   hours with nothing are absent (tower.retro.relative_series fills them with zeros).
-- params: anchor, start, end, now, merchant, channel, market (NULL = all)
-- returns: hour_offset (integer hours since anchor, floor), orders (placed), units (sold),
--   delivered (orders delivered with a promised date), on_time (of those, delivered by the promise),
--   on_time_rate (percent 0–100, NULL without deliveries)
with placed as (
    -- orders_in_window: queries/schema/009_shared_query_macros.sql
    select
        floor(epoch(o.created_at - $anchor::timestamptz) / 3600)::integer as hour_offset,
        count(distinct o.order_id)                                         as orders,
        coalesce(sum(l.quantity), 0)                                       as units
    from orders_in_window($start::timestamptz, least($end::timestamptz, $now::timestamptz),
                          $merchant::text, $channel::text, $market::text) o
    left join order_lines l using (order_id)
    where o.cancelled_at is null
    group by all
),

delivered as (
    -- orders_with_delivery: one row per order with its delivery (queries/kpi/_facts.sql)
    select
        floor(epoch(o.delivered_at - $anchor::timestamptz) / 3600)::integer as hour_offset,
        count(*)                                                             as delivered,
        count(*) filter (where o.delivered_at <= o.promised_delivery_at)    as on_time
    from orders_with_delivery o
    where o.delivered_at >= $start::timestamptz
      and o.delivered_at < least($end::timestamptz, $now::timestamptz)
      and o.promised_delivery_at is not null
      and ($merchant::text is null or o.merchant_id = $merchant::text)
      and ($channel::text is null or o.channel = $channel::text)
      and ($market::text is null or o.market = $market::text)
    group by all
),

final as (
    select
        hour_offset,
        coalesce(pl.orders, 0)    as orders,
        coalesce(pl.units, 0)     as units,
        coalesce(d.delivered, 0)  as delivered,
        coalesce(d.on_time, 0)    as on_time,
        100.0 * d.on_time / nullif(d.delivered, 0) as on_time_rate
    from placed pl
    full join delivered d using (hour_offset)
)

select * from final
order by hour_offset
