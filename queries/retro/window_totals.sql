-- window_totals: demand in a window — orders placed, units sold and revenue — for the event vs
-- baseline comparison (the surge shows here first).
-- grain: one row for orders created in [$start, min($end, $now)), cancelled orders left out.
-- params: start, end, now, merchant, channel, market (NULL = all)
-- returns: orders (count), units (units on their lines), revenue (sum of line quantity × price, the
--   orders' currency), hours (elapsed length of the window, hours)
with window_orders as (
    -- orders_in_window: queries/schema/009_shared_query_macros.sql
    select o.order_id
    from orders_in_window($start::timestamptz, least($end::timestamptz, $now::timestamptz),
                          $merchant::text, $channel::text, $market::text) o
    where o.cancelled_at is null
),

line_totals as (
    select
        sum(l.quantity)           as units,
        sum(l.quantity * l.price) as revenue
    from order_lines l
    join window_orders w using (order_id)
),

final as (
    select
        (select count(*) from window_orders)          as orders,
        coalesce(t.units, 0)                          as units,
        coalesce(t.revenue, 0)::double                as revenue,
        greatest(epoch(least($end::timestamptz, $now::timestamptz) - $start::timestamptz), 0) / 3600.0
            as hours
    from line_totals t
)

select * from final
