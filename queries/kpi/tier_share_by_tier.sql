-- name: tier_share_by_tier
-- label: Volume by supplier tier vs plan
-- label_zh: 各层级供应商采购量对比计划
-- definition: Units ordered in the window per supplier tier, their share, and the 70-20-10 plan
--   (primary, backup, emergency); the gap is actual − plan in points.
-- grain: one row per tier (plan tiers always listed); POs ordered in [start, min(end, now))
-- params: start, end, now, market (destination warehouse's) (NULL = all); merchant and channel do
--   not apply (POs are per supplier)
-- returns: tier, units, share_pct (NULL without POs), plan_pct, gap_points
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text as merchant,  -- unused: POs are per supplier
        $channel::text  as channel,   -- unused: POs are per supplier
        $market::text   as market
),

plan as (
    select * from (values ('primary', 70.0), ('backup', 20.0), ('emergency', 10.0)) t(tier, plan_pct)
),

volume as (
    select coalesce(s.tier, 'unknown') as tier, sum(po.quantity_ordered) as units
    from purchase_orders po
    cross join params p
    left join suppliers s using (supplier_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at >= p.window_start
      and po.ordered_at < p.as_of
      and coalesce(po.status, '') <> 'cancelled'
      and (p.market is null or w.market = p.market)
    group by all
),

final as (
    select
        coalesce(v.tier, plan.tier) as tier,
        coalesce(v.units, 0)::bigint as units,
        100.0 * coalesce(v.units, 0) / nullif(sum(v.units) over (), 0) as share_pct,
        coalesce(plan.plan_pct, 0.0) as plan_pct,
        100.0 * coalesce(v.units, 0) / nullif(sum(v.units) over (), 0) - coalesce(plan.plan_pct, 0.0)
            as gap_points
    from volume v
    full outer join plan using (tier)
)

select * from final
order by case tier when 'primary' then 0 when 'backup' then 1 when 'emergency' then 2 else 3 end
