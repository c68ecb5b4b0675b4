-- name: supplier_scorecard
-- label: Supplier scorecard
-- label_zh: 供应商评分卡
-- definition: Per supplier: actual lead time (order to fully shipped) against the quoted one, share
--   of POs shipped by the promised day, share of the volume ordered in the window against the tier's
--   plan (70-20-10), and how long since its last progress report.
-- grain: one row per supplier; POs shipped in [start, min(end, now)) for lead time and on-time,
--   POs ordered in the window for volume; reports before min(end, now)
-- params: start, end, now, market (destination warehouse's) (NULL = all); merchant and channel do
--   not apply (POs are per supplier)
-- returns: supplier_id, name, tier, country, quoted_lead_time_days, actual_lead_time_days (NULL
--   without shipped POs), pos_shipped, on_time_ship_pct, units_ordered, volume_share_pct,
--   plan_share_pct (the tier's share in the 70-20-10 plan), last_report_at, hours_since_report,
--   capacity_per_day
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

pos as (
    select po.*
    from purchase_orders po
    cross join params p
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at < p.as_of
      and coalesce(po.status, '') <> 'cancelled'
      and (p.market is null or w.market = p.market)
),

-- a PO ships at its first report showing everything shipped (or a shipped/closed status)
shipped as (
    select r.po_id, min(r.observed_at) as shipped_at
    from po_progress r
    join pos using (po_id)
    cross join params p
    where r.observed_at < p.as_of
      and (r.quantity_shipped >= pos.quantity_ordered or r.status in ('shipped', 'closed'))
    group by r.po_id
),

delivery as (
    select
        pos.supplier_id,
        count(*) as pos_shipped,
        avg(date_diff('microsecond', pos.ordered_at, s.shipped_at) / 86400e6) as actual_lead_time_days,
        100.0 * count(*) filter (where s.shipped_at::date <= pos.promised_ship_date::date) / count(*)
            as on_time_ship_pct
    from pos
    join shipped s using (po_id)
    cross join params p
    where s.shipped_at >= p.window_start
    group by pos.supplier_id
),

volume as (
    select pos.supplier_id, sum(pos.quantity_ordered) as units
    from pos
    cross join params p
    where pos.ordered_at >= p.window_start
    group by pos.supplier_id
),

reports as (
    select pos.supplier_id, max(r.observed_at) as last_report_at
    from po_progress r
    join pos using (po_id)
    cross join params p
    where r.observed_at < p.as_of
    group by pos.supplier_id
),

final as (
    select
        s.supplier_id,
        s.name,
        s.tier,
        s.country,
        s.lead_time_days as quoted_lead_time_days,
        d.actual_lead_time_days,
        coalesce(d.pos_shipped, 0) as pos_shipped,
        d.on_time_ship_pct,
        coalesce(v.units, 0)::bigint as units_ordered,
        100.0 * coalesce(v.units, 0) / nullif(sum(v.units) over (), 0) as volume_share_pct,
        plan.plan_pct as plan_share_pct,
        r.last_report_at,
        date_diff('microsecond', r.last_report_at, p.as_of) / 3600e6 as hours_since_report,
        s.capacity_per_day
    from suppliers s
    cross join params p
    left join delivery d using (supplier_id)
    left join volume v using (supplier_id)
    left join reports r using (supplier_id)
    left join plan using (tier)
)

select * from final
order by case tier when 'primary' then 0 when 'backup' then 1 when 'emergency' then 2 else 3 end,
    supplier_id
