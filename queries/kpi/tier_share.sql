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
-- dimensions: tier (one row per tier, plan tiers always listed: value = share − plan in points,
--   n = units, with share_pct and plan_pct)
-- buckets: none
create or replace macro kpi_tier_share(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
with plan as (
    select * from (values ('primary', 70.0), ('backup', 20.0), ('emergency', 10.0)) t(tier, plan_pct)
),

volume as (
    select coalesce(s.tier, 'unknown') as tier, sum(po.quantity_ordered) as units
    from purchase_orders po
    left join suppliers s using (supplier_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at >= window_start
      and po.ordered_at < as_of
      and coalesce(po.status, '') <> 'cancelled'
      and (market_filter is null or w.market = market_filter)
      and (warehouse_filter is null or po.warehouse_id = warehouse_filter)
    group by all
),

shares as (
    select
        coalesce(v.tier, plan.tier) as tier,
        coalesce(plan.plan_pct, 0) as plan_pct,
        coalesce(v.units, 0) as units,
        100.0 * coalesce(v.units, 0) / nullif(sum(v.units) over (), 0) as share_pct
    from volume v
    full outer join plan using (tier)
)

-- the whole mix: half the absolute gaps are the points of volume that would have to move
select
    null::text as dimension_value,
    null::timestamptz as bucket_start,
    sum(abs(share_pct - plan_pct)) / 2 as value,
    sum(units)::bigint as n,
    null::double as share_pct,
    null::double as plan_pct
from shares
where dimension is null
having sum(units) > 0

union all

-- its parts, for the by-tier chart
select tier, null::timestamptz, share_pct - plan_pct, units::bigint, share_pct, plan_pct
from shares
where dimension = 'tier';
