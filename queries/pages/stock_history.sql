-- Stock: observed available units of one sku ($sku) at one warehouse ($warehouse_id) over the window
-- [$start, min($end, $now)], with its watermarks. The last observation before $start is included
-- so the line starts at the level that held when the window opened.
-- Grain: one row per stock observation. Units: items; observed_at UTC.
-- Params: start (NULL = from the first observation), end, now, sku, warehouse_id (the shared
-- filters do not apply).
with observations as (
    select o.observed_at, o.available
    from stock_observations as o
    where o.sku = $sku::text and o.warehouse_id = $warehouse_id::text
      and o.observed_at <= least($end::timestamptz, $now::timestamptz)
),

before_window as (
    select o.*
    from observations as o
    where o.observed_at < $start::timestamptz
    order by o.observed_at desc
    limit 1
),

in_window as (
    select o.*
    from observations as o
    where o.observed_at >= coalesce($start::timestamptz, '-infinity'::timestamptz)
),

final as (
    select o.observed_at, o.available, pol.safety_qty, pol.warning_qty, pol.limit_qty
    from (select * from before_window union all select * from in_window) as o
    left join stock_policies as pol on pol.sku = $sku::text and pol.warehouse_id = $warehouse_id::text
)

select * from final
order by observed_at
