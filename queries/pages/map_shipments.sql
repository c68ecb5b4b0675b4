-- Map: shipments not yet delivered, at their last known position, with where they came from and go
--   to; beyond $max_points of them, most merged into grid cells (the map stays light).
-- Grain: one row per drawn mark, kind = 'parcel' (one shipment: tag not Delivered/Expired, no
--   delivered_at, created by $now, with a position) or kind = 'cell' (several shipments in one grid
--   cell: `parcels` of them, `late_parcels` of those delayed or in exception, at their mean lat/lon;
--   their direction/mode/tag are one of theirs, the other parcel columns null). Parcels first, worst
--   first (exceptions, then delayed, most hours late), then cells by grid row and column.
-- Up to $max_points shipments, every one is a parcel. Beyond, exceptions and delayed shipments, worst
--   first, stay parcels up to $max_points / 2; the rest merge into cells of a square lat/lon grid, the
--   finest of 0.5°, 1°, 2°, … whose cells fit in what is left of $max_points. NULL = never merge.
-- Totals over every shipment on the map (merged or not), repeated on each row: total_in_transit,
--   total_delayed, total_exceptions, total_attention (delayed or exception); merged = how many shipments the cells hold.
-- Position (lat/lon, degrees): shipments.last_lat/last_lon, else the newest tracking event with a coordinate.
-- last_location: the newest tracking event with a coordinate (parcels only).
-- Origin: inbound, the first checkpoint with a coordinate, else the PO's supplier; outbound, the
--   shipping warehouse, else the first checkpoint. Destination: the warehouse for inbound shipments;
--   outbound parcels have only destination_city/destination_country (text), so dest_lat/dest_lon are
--   null here and the page geocodes the drawn ones offline (connectors/geocode.py).
-- Flags: is_delayed = eta before $now; is_exception = tag Exception or AttemptFail; hours_late (h).
-- Filters: $market (order market, else the warehouse's market), $merchant/$channel (outbound orders;
--   inbound stock serves every merchant, so inbound shipments always show). The window does not apply:
--   the map is the state at $now.
-- Cost: first and newest positions come from tracking_fixes (migration 024), read only for shipments
--   without a last position and for the drawn parcels, so a million shipments cost one pass over the
--   open ones and no checkpoint history, not a row per shipment in Python.
-- Params: now, merchant, channel, market (NULL = all), max_points (NULL = no merging).
with open_shipments as (
    select
        s.shipment_id,
        s.direction,
        s.mode,
        s.tag,
        s.last_lat is not null and s.last_lon is not null as has_own_position,
        s.last_lat,
        s.last_lon,
        coalesce(s.eta < $now::timestamptz, false) as is_delayed,
        coalesce(s.tag in ('Exception', 'AttemptFail'), false) as is_exception,
        case when s.eta < $now::timestamptz then date_diff('minute', s.eta, $now::timestamptz) / 60.0 end
            as hours_late
    from shipments as s
    left join warehouses as w on w.warehouse_id = s.warehouse_id
    -- orders only matter to the filters: with none set the join reads nothing
    left join orders as o
        on o.order_id = s.order_id
        and ($market::text is not null or $merchant::text is not null or $channel::text is not null)
    where s.delivered_at is null
      and coalesce(s.tag, '') not in ('Delivered', 'Expired')
      and (s.created_at is null or s.created_at <= $now::timestamptz)
      and ($market::text is null or coalesce(o.market, w.market) = $market::text)
      and ($merchant::text is null or o.merchant_id is null or o.merchant_id = $merchant::text)
      and ($channel::text is null or o.channel is null or o.channel = $channel::text)
),

-- Whose checkpoints to read (one pass over them): the shipments without a position of their own,
-- and every shipment that may be drawn one by one — all of them when those with a position of their
-- own fit in $max_points, else the worst problem shipments, as many more than half the budget as
-- there are shipments that may turn out to have no position at all.
unplaced as (
    select count(*) filter (where not has_own_position) as n,
           count(*) filter (where has_own_position) as placed
    from open_shipments
),

ranked_problems as (
    select
        shipment_id,
        row_number() over (order by is_exception desc, is_delayed desc, hours_late desc nulls last, shipment_id)
            as problem_rank
    from open_shipments
    where is_exception or is_delayed
),

lookups as (
    select s.shipment_id
    from open_shipments as s, unplaced as u
    where not s.has_own_position or $max_points::integer is null or u.placed <= $max_points::integer
    union
    select p.shipment_id
    from ranked_problems as p, unplaced as u
    where p.problem_rank <= $max_points::integer // 2 + u.n
),

fixes as (
    select f.shipment_id, f.last_fix, f.first_fix
    from tracking_fixes_at($now::timestamptz) as f
    where f.shipment_id in (select shipment_id from lookups)
),

on_map as (
    select
        s.shipment_id,
        s.direction,
        s.mode,
        s.tag,
        case when s.has_own_position then s.last_lat else f.last_fix.lat end as lat,
        case when s.has_own_position then s.last_lon else f.last_fix.lon end as lon,
        s.is_delayed,
        s.is_exception,
        s.hours_late
    from open_shipments as s
    left join fixes as f using (shipment_id)
    where s.has_own_position or (f.last_fix.lat is not null and f.last_fix.lon is not null)
),

totals as (
    select
        count(*) as total_in_transit,
        count(*) filter (where is_delayed) as total_delayed,
        count(*) filter (where is_exception) as total_exceptions,
        count(*) filter (where is_delayed or is_exception) as total_attention,
        $max_points::integer is null or count(*) <= $max_points::integer as fits
    from on_map
),

-- shown one by one: everything when it fits, else the worst problem parcels up to half the budget
individual as (
    select m.* from on_map as m where (select fits from totals)
    union all
    (select m.* from on_map as m
     where not (select fits from totals) and (m.is_exception or m.is_delayed)
     order by m.is_exception desc, m.is_delayed desc, m.hours_late desc nulls last, m.shipment_id
     limit $max_points::integer // 2)
),

rest as (
    select m.lat, m.lon, m.direction, m.mode, m.tag, m.is_delayed or m.is_exception as is_late
    from on_map as m
    where not (select fits from totals)
      and m.shipment_id not in (select shipment_id from individual)
),

-- the finest cells (0.5°); a coarser grid's cell is a union of them, since for steps of 2^k
-- floor(floor(x / 0.5) / 2^k) = floor(x / (0.5 · 2^k)): the parcels are grouped once
fine_cells as (
    select
        floor(lat / 0.5) as fine_row,
        floor(lon / 0.5) as fine_col,
        sum(lat) as lat_sum,
        sum(lon) as lon_sum,
        count(*) as parcels,
        count(*) filter (where is_late) as late_parcels,
        first(direction) as direction,
        first(mode) as mode,
        first(tag) as tag
    from rest
    group by fine_row, fine_col
),

grid_steps as (
    select pow(2, k) as step from range(0, 12) as g(k)
),

cells_per_step as (
    select g.step, count(distinct (floor(f.fine_row / g.step), floor(f.fine_col / g.step))) as cells
    from fine_cells as f, grid_steps as g
    group by g.step
),

-- the finest grid (0.5°, 1°, 2°, …) whose cells fit in the points left (the coarsest tried if none does)
grid as (
    select coalesce(
        min(step) filter (where cells <= $max_points::integer - (select count(*) from individual)),
        max(step)) as step
    from cells_per_step
),

cells as (
    select
        floor(f.fine_row / g.step) as cell_row,
        floor(f.fine_col / g.step) as cell_col,
        sum(f.lat_sum) / sum(f.parcels) as lat,
        sum(f.lon_sum) / sum(f.parcels) as lon,
        sum(f.parcels)::bigint as parcels,
        sum(f.late_parcels)::bigint as late_parcels,
        first(f.direction) as direction,
        first(f.mode) as mode,
        first(f.tag) as tag
    from fine_cells as f, grid as g
    group by cell_row, cell_col
),

parcels as (
    select
        'parcel' as kind,
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.mode,
        s.direction,
        s.tag,
        s.subtag,
        s.eta,
        s.po_id,
        s.order_id,
        s.warehouse_id,
        s.last_checkpoint_at,
        i.lat,
        i.lon,
        f.last_fix.location as last_location,
        case when s.direction = 'outbound' and w.lat is not null and w.lon is not null then w.lat
             else coalesce(f.first_fix.lat, case when s.direction = 'inbound' then sup.lat else w.lat end) end
            as origin_lat,
        case when s.direction = 'outbound' and w.lat is not null and w.lon is not null then w.lon
             else coalesce(f.first_fix.lon, case when s.direction = 'inbound' then sup.lon else w.lon end) end
            as origin_lon,
        s.destination_city,
        s.destination_country,
        case when s.direction = 'inbound' then w.lat end as dest_lat,
        case when s.direction = 'inbound' then w.lon end as dest_lon,
        i.is_delayed,
        i.is_exception,
        i.hours_late,
        null::bigint as parcels,
        null::bigint as late_parcels,
        0 as cell_row,
        0 as cell_col
    from individual as i
    join shipments as s using (shipment_id)
    left join fixes as f using (shipment_id)
    left join warehouses as w on w.warehouse_id = s.warehouse_id
    left join purchase_orders as po on po.po_id = s.po_id
    left join suppliers as sup on sup.supplier_id = po.supplier_id
),

merged_cells as (
    select
        'cell' as kind,
        'cell:' || (row_number() over (order by cell_row, cell_col) - 1) as shipment_id,
        null as tracking_number, null as carrier, mode, direction, tag, null as subtag,
        null::timestamptz as eta, null as po_id, null as order_id, null as warehouse_id,
        null::timestamptz as last_checkpoint_at,
        lat, lon, null as last_location, null::double as origin_lat, null::double as origin_lon,
        null as destination_city, null as destination_country, null::double as dest_lat,
        null::double as dest_lon, false as is_delayed, false as is_exception, null::double as hours_late,
        parcels, late_parcels, cell_row, cell_col
    from cells
),

final as (
    select
        u.*,
        t.total_in_transit,
        t.total_delayed,
        t.total_exceptions,
        t.total_attention,
        coalesce((select sum(parcels) from cells), 0)::bigint as merged
    from (select * from parcels union all by name select * from merged_cells) as u, totals as t
)

select * exclude (cell_row, cell_col)
from final
order by kind desc, is_exception desc, is_delayed desc, hours_late desc nulls last, cell_row, cell_col, shipment_id
