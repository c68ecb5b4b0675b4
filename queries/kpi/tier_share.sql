-- name: tier_share
-- label: Tier mix off plan
-- label_zh: 供应商层级偏离计划
-- definition: Volume ordered in the window by supplier tier against the 70-20-10 plan (primary,
--   backup, emergency): half the sum of absolute share gaps, i.e. points of volume that would have
--   to move to match the plan.
-- definition_zh: 窗口内各层级供应商（主力、备份、应急）采购量占比与 70-20-10 计划的偏差：各层级差值绝对值之和的一半，即需要转移才能符合计划的采购量百分点。
-- unit: points
-- grain: one row for the window; PO units ordered in [start, min(end, now))
-- better: lower
-- format: {:.1f} pts
-- params: start, end, now, market (destination warehouse's), warehouse (destination); merchant and
--   channel do not apply (POs are per supplier)
-- returns: value (points 0–100, NULL without POs), n (units ordered), primary_pct, backup_pct,
--   emergency_pct (actual shares in percent)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,  -- unused: POs are per supplier
        $channel::text   as channel,   -- unused: POs are per supplier
        $market::text    as market,
        $warehouse::text as warehouse
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
      and (p.warehouse is null or po.warehouse_id = p.warehouse)
    group by all
),

-- a tier outside the plan (or unknown) is planned at 0%
shares as (
    select
        coalesce(v.tier, plan.tier) as tier,
        coalesce(plan.plan_pct, 0) as plan_pct,
        100.0 * coalesce(v.units, 0) / nullif(sum(v.units) over (), 0) as share_pct
    from volume v
    full outer join plan using (tier)
),

final as (
    select
        sum(abs(share_pct - plan_pct)) / 2 as value,
        coalesce((select sum(units) from volume), 0)::bigint as n,
        max(share_pct) filter (where tier = 'primary') as primary_pct,
        max(share_pct) filter (where tier = 'backup') as backup_pct,
        max(share_pct) filter (where tier = 'emergency') as emergency_pct
    from shares
)

select * from final
