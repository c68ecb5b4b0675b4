-- Map: suppliers with their position, tier and when they last reported PO progress.
-- Grain: one row per supplier with a coordinate (lat/lon in degrees); open_pos = POs not shipped,
-- closed or cancelled; last_report_at = newest po_progress.observed_at up to $now (UTC).
-- Params: now (suppliers serve every market: the window and the shared filters do not apply).
with last_report as (
    select po.supplier_id, max(pr.observed_at) as last_report_at
    from po_progress as pr
    inner join purchase_orders as po using (po_id)
    where pr.observed_at <= $now::timestamptz
    group by po.supplier_id
),

open_pos as (
    select supplier_id, count(*) as open_pos
    from purchase_orders
    where coalesce(status, 'open') not in ('shipped', 'closed', 'cancelled')
    group by supplier_id
),

final as (
    select s.supplier_id, s.name, s.tier, s.country, s.lat, s.lon, s.lead_time_days,
           coalesce(o.open_pos, 0) as open_pos, r.last_report_at
    from suppliers as s
    left join last_report as r using (supplier_id)
    left join open_pos as o using (supplier_id)
    where s.lat is not null and s.lon is not null
)

select * from final
order by supplier_id
