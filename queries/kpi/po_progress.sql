-- name: po_progress
-- label: Purchase order progress
-- label_zh: 采购单进度
-- definition: Per active purchase order: produced % against the expected % (straight line from 0% at
--   order time to 100% at the promised ship date), how many points behind, and whether it is late.
-- grain: one row per PO active as of min(end, now): ordered, not cancelled, due in the window or
--   not yet finished (all shipped, or reported shipped/closed); progress from the latest supplier report before that moment
-- params: start, end, now, market (destination warehouse's) (NULL = all); merchant and channel do
--   not apply (POs are per supplier)
-- returns: po_id, supplier_id, supplier_name, tier, sku, warehouse_id, quantity_ordered,
--   quantity_produced, quantity_qc_passed, quantity_shipped, produced_pct, expected_pct,
--   behind_points (expected − produced, positive = behind), ordered_at, promised_ship_date,
--   last_report_at (NULL = never reported), hours_since_report, late (not finished and the
--   promised ship day, UTC, is over), status (latest known)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text as merchant,  -- unused: POs are per supplier
        $channel::text  as channel,   -- unused: POs are per supplier
        $market::text   as market
),

progress_as_of as (
    select
        r.po_id, r.observed_at, r.quantity_produced, r.quantity_qc_passed, r.quantity_shipped,
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
        po.po_id,
        po.supplier_id,
        s.name as supplier_name,
        s.tier,
        po.sku,
        po.warehouse_id,
        po.quantity_ordered,
        coalesce(r.quantity_produced, 0) as quantity_produced,
        coalesce(r.quantity_qc_passed, 0) as quantity_qc_passed,
        coalesce(r.quantity_shipped, 0) as quantity_shipped,
        100.0 * least(coalesce(r.quantity_produced, 0), po.quantity_ordered) / po.quantity_ordered
            as produced_pct,
        case
            when po.promised_ship_date <= po.ordered_at then 100.0
            else 100.0 * greatest(0.0, least(1.0,
                date_diff('microsecond', po.ordered_at, p.as_of)
                / date_diff('microsecond', po.ordered_at, po.promised_ship_date)))
        end as expected_pct,
        po.ordered_at,
        po.promised_ship_date,
        r.observed_at as last_report_at,
        date_diff('microsecond', r.observed_at, p.as_of) / 3600e6 as hours_since_report,
        not coalesce(r.finished, false) and p.as_of::date > po.promised_ship_date::date as late,
        po.status
    from purchase_orders po
    cross join params p
    left join progress_as_of r using (po_id)
    left join suppliers s using (supplier_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at < p.as_of
      and po.quantity_ordered > 0
      and po.promised_ship_date is not null
      and coalesce(po.status, '') <> 'cancelled'
      and (po.promised_ship_date >= p.window_start or not coalesce(r.finished, false))
      and (p.market is null or w.market = p.market)
),

final as (
    select
        po_id, supplier_id, supplier_name, tier, sku, warehouse_id,
        quantity_ordered, quantity_produced, quantity_qc_passed, quantity_shipped,
        produced_pct, expected_pct, expected_pct - produced_pct as behind_points,
        ordered_at, promised_ship_date, last_report_at, hours_since_report, late, status
    from active
)

select * from final order by late desc, behind_points desc, promised_ship_date, po_id
