-- Suppliers: one scorecard row per supplier as of $now.
-- Columns: quoted lead_time_days (d); actual_lead_days (d) = mean days from ordered_at to the first
--   progress report showing units shipped, over POs that shipped in the window; pos_due = POs whose
--   promised ship date fell in the window; pos_on_time = of those, first shipment on or before the
--   promised date; on_time_pct (0–100, one division of the counts like the layer's rates, null
--   when none due); open_pos (not shipped, closed or
--   cancelled by the latest report) / late_pos (open and promised ship date passed);
--   last_report_at (UTC, newest progress report of any PO up to $now); silent_hours (h since then, null when it never reported).
-- Grain: one row per supplier. Filters: $market (destination warehouse's market) narrows the POs.
-- Params: start (NULL = since the first PO), end, now, market (NULL = all; merchant and channel do
-- not apply: POs serve every merchant).
with scored_window as (
    -- the window cut at $now: a PO is scored when it fell due or shipped in it
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as window_end
),

pos as (
    select po.*
    from purchase_orders as po
    left join warehouses as w on w.warehouse_id = po.warehouse_id
    where (po.ordered_at is null or po.ordered_at <= $now::timestamptz)
      and ($market::text is null or w.market = $market::text)
),

reports as (
    select pr.*
    from po_progress as pr
    where pr.observed_at <= $now::timestamptz
),

first_shipped as (
    select po_id, min(observed_at) as shipped_at
    from reports
    where quantity_shipped > 0
    group by po_id
),

latest as (
    select * from reports
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

per_po as (
    select
        pos.supplier_id,
        pos.po_id,
        pos.ordered_at,
        pos.promised_ship_date,
        fs.shipped_at,
        coalesce(l.status, pos.status) as status,
        pos.promised_ship_date >= sw.window_start and pos.promised_ship_date < sw.window_end as due_in_window,
        fs.shipped_at >= sw.window_start and fs.shipped_at < sw.window_end as shipped_in_window
    from pos
    cross join scored_window as sw
    left join first_shipped as fs using (po_id)
    left join latest as l using (po_id)
),

scored as (
    select
        supplier_id,
        avg(date_diff('minute', ordered_at, shipped_at) / 1440.0) filter (where shipped_in_window)
            as actual_lead_days,
        count(*) filter (where due_in_window and coalesce(status, '') <> 'cancelled') as pos_due,
        count(*) filter (where due_in_window and coalesce(status, '') <> 'cancelled'
                         and shipped_at <= promised_ship_date) as pos_on_time,
        count(*) filter (where coalesce(status, 'open') not in ('shipped', 'closed', 'cancelled')) as open_pos,
        count(*) filter (where promised_ship_date < $now::timestamptz
                         and coalesce(status, 'open') not in ('shipped', 'closed', 'cancelled')) as late_pos
    from per_po
    group by supplier_id
),

last_report as (
    select po.supplier_id, max(r.observed_at) as last_report_at
    from reports as r
    inner join purchase_orders as po using (po_id)
    group by po.supplier_id
),

final as (
    select
        s.supplier_id,
        s.name,
        s.tier,
        s.country,
        s.lead_time_days,
        sc.actual_lead_days,
        coalesce(sc.pos_due, 0) as pos_due,
        coalesce(sc.pos_on_time, 0) as pos_on_time,
        100.0 * sc.pos_on_time / nullif(sc.pos_due, 0) as on_time_pct,
        coalesce(sc.open_pos, 0) as open_pos,
        coalesce(sc.late_pos, 0) as late_pos,
        lr.last_report_at,
        date_diff('minute', lr.last_report_at, $now::timestamptz) / 60.0 as silent_hours
    from suppliers as s
    left join scored as sc using (supplier_id)
    left join last_report as lr using (supplier_id)
)

select * from final
order by case tier when 'primary' then 1 when 'backup' then 2 when 'emergency' then 3 else 9 end, supplier_id
