-- Stock: observed available units of one sku ($sku) at one warehouse ($warehouse_id) over the window
-- [$start, min($end, $now)], with its watermarks. The last observation before $start is included
-- so the line starts at the level that held when the window opened.
-- Grain: one row per stock observation. Units: items; observed_at UTC.
-- Params: start, end, now, merchant, channel, market (window and now apply), sku, warehouse_id.
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text      as merchant,
        $channel::text       as channel,
        $market::text        as market,
        $sku::text           as sku,
        $warehouse_id::text  as warehouse_id
),

observations as (
    select o.observed_at, o.available
    from stock_observations as o
    cross join params as p
    where o.sku = p.sku and o.warehouse_id = p.warehouse_id
      and o.observed_at <= p.as_of
),

before_window as (
    select o.*
    from observations as o
    cross join params as p
    where o.observed_at < p.window_start
    order by o.observed_at desc
    limit 1
),

in_window as (
    select o.*
    from observations as o
    cross join params as p
    where o.observed_at >= p.window_start
),

final as (
    select o.observed_at, o.available, pol.safety_qty, pol.warning_qty, pol.limit_qty
    from (select * from before_window union all select * from in_window) as o
    cross join params as p
    left join stock_policies as pol on pol.sku = p.sku and pol.warehouse_id = p.warehouse_id
)

select * from final
order by observed_at
