-- name: supplier_progress_vs_plan
-- label: Supplier progress vs plan
-- label_zh: 供应商进度偏差
-- definition: Average over active purchase orders of produced % minus expected %, where expected %
--   is the share of time elapsed from order to promised ship date; negative = behind, in points.
-- definition_zh: 在执行中的采购单上，已生产百分比减去预期百分比（从下单到承诺发货日按时间线性推进）的平均值；负数表示落后，单位为百分点。
-- unit: points
-- grain: one row: POs active as of min(end, now) (ordered, not cancelled, due in the window or
--   not yet finished), progress from the latest supplier report before that moment
-- better: higher
-- format: {:+.1f} pts
-- params: start, end, now, market (destination warehouse's), warehouse (destination); merchant and
--   channel do not apply (POs are per supplier)
-- returns: value (points, NULL without active POs), n (active POs)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,  -- unused: POs are per supplier
        $channel::text   as channel,   -- unused: POs are per supplier
        $market::text    as market,
        $warehouse::text as warehouse
),

progress_as_of as (
    select
        r.po_id, r.quantity_produced, r.quantity_shipped,
        -- finished: all shipped, or the supplier reports shipped/closed (QC rejects can leave a gap)
        r.quantity_shipped >= po.quantity_ordered or r.status in ('shipped', 'closed') as finished
    from po_progress r
    join purchase_orders po using (po_id)
    cross join params p
    where r.observed_at < p.as_of
    qualify row_number() over (partition by r.po_id order by r.observed_at desc) = 1
),

active as (
    select
        100.0 * least(coalesce(r.quantity_produced, 0), po.quantity_ordered)
            / po.quantity_ordered as produced_pct,
        -- expected: straight line from 0% at order time to 100% at the promised ship date
        case
            when po.promised_ship_date <= po.ordered_at then 100.0
            else 100.0 * greatest(0.0, least(1.0,
                date_diff('microsecond', po.ordered_at, p.as_of)
                / date_diff('microsecond', po.ordered_at, po.promised_ship_date)))
        end as expected_pct
    from purchase_orders po
    cross join params p
    left join progress_as_of r using (po_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at < p.as_of
      and po.quantity_ordered > 0
      and po.promised_ship_date is not null
      and coalesce(po.status, '') <> 'cancelled'
      and (po.promised_ship_date >= p.window_start or not coalesce(r.finished, false))
      and (p.market is null or w.market = p.market)
      and (p.warehouse is null or po.warehouse_id = p.warehouse)
),

final as (
    select avg(produced_pct - expected_pct) as value, count(*) as n
    from active
)

select * from final
