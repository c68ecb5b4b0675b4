-- Twin suppliers: each supplier with its quoted lead time, capacity, the capacity its open POs
-- already take (as of $at) and the lead times (ordered → first units shipped, days) of its POs
-- known by $at, the distribution the twin samples.
-- Grain: one row per supplier. Columns: supplier_id, name, tier, country, lead_time_days,
-- capacity_per_day, committed_per_day (units/d), lead_samples (list of days). Params: $at.
with progress as (
    select po_id, quantity_shipped, quantity_produced
    from po_progress
    where observed_at <= $at
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

first_shipped as (
    select pp.po_id, min(pp.observed_at) as shipped_at
    from po_progress as pp
    where pp.observed_at <= $at and pp.quantity_shipped > 0
    group by all
),

leads as (
    select po.supplier_id, list(epoch(f.shipped_at - po.ordered_at) / 86400 order by po.po_id) as lead_samples
    from purchase_orders as po
    inner join first_shipped as f using (po_id)
    where po.ordered_at <= $at and f.shipped_at > po.ordered_at
    group by all
),

committed as (
    select
        po.supplier_id,
        sum(
            greatest(po.quantity_ordered - coalesce(pr.quantity_produced, 0), 0)
            / greatest(epoch(po.promised_ship_date - $at::timestamptz) / 86400, 1)
        ) as committed_per_day
    from purchase_orders as po
    left join progress as pr using (po_id)
    where po.ordered_at <= $at
      and po.status not in ('cancelled', 'closed')
      and coalesce(pr.quantity_shipped, 0) < po.quantity_ordered
    group by all
),

final as (
    select
        s.supplier_id,
        s.name,
        s.tier,
        s.country,
        s.lead_time_days,
        s.capacity_per_day,
        coalesce(c.committed_per_day, 0) as committed_per_day,
        coalesce(l.lead_samples, []) as lead_samples
    from suppliers as s
    left join committed as c using (supplier_id)
    left join leads as l using (supplier_id)
)

select * from final order by supplier_id
