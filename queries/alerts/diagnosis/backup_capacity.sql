-- Diagnosis backup_capacity: how fast the backup and emergency suppliers could help, as of $now.
-- Grain: one row per supplier of tier backup or emergency. Columns: supplier_id, name, tier,
-- lead_time_days (d), capacity_per_day (units/d), committed_per_day (units/d: quantity still to
-- make on its open POs spread over the days to their promised ship dates, at least one day),
-- free_per_day (units/d), earliest_ship (now + lead time).
-- Params: $now.
with remaining as (
    select
        po.supplier_id,
        sum(
            greatest(po.quantity_ordered - coalesce(pc.quantity_produced, 0), 0)
            / greatest(epoch(po.promised_ship_date - $now::timestamptz) / 86400, 1)
        ) as committed_per_day
    from po_current as po
    left join (
        select po_id, quantity_produced
        from po_progress
        where observed_at <= $now
        qualify row_number() over (partition by po_id order by observed_at desc) = 1
    ) as pc using (po_id)
    where po.status in ('open', 'in_production')
    group by all
),

final as (
    select
        s.supplier_id,
        s.name,
        s.tier,
        s.lead_time_days,
        s.capacity_per_day,
        round(coalesce(r.committed_per_day, 0)) as committed_per_day,
        greatest(s.capacity_per_day - round(coalesce(r.committed_per_day, 0)), 0) as free_per_day,
        $now::timestamptz + to_seconds(coalesce(s.lead_time_days, 0) * 86400) as earliest_ship
    from suppliers as s
    left join remaining as r using (supplier_id)
    where s.tier in ('backup', 'emergency')
)

select * from final order by case tier when 'backup' then 1 else 2 end, lead_time_days
