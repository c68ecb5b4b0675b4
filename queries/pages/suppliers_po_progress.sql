-- Suppliers: each purchase order's production progress against the straight-line plan, as of $now.
-- Grain: one row per PO ordered by $now, not cancelled, that is still open (not shipped or closed
--   by its latest report) or was promised to ship inside the window [$start, min($end, $now)).
-- Columns: produced_pct / qc_pct / shipped_pct (0–1 of quantity_ordered, latest report up to $now);
--   expected_pct (0–1) = elapsed share of ordered_at → promised_ship_date, clipped to [0, 1];
--   gap_pct = produced_pct − expected_pct (negative = behind plan); is_late = promised ship date
--   passed and not shipped yet (status from the latest report; a shipment short of the ordered
--   quantity after QC rejects still counts as shipped); is_behind = not shipped yet and produced more
--   than 10 points below plan; last_report_at (UTC) = the newest progress report for the PO.
-- Filters: $market (destination warehouse's market); merchant/channel do not apply to supply.
-- Params: start, end, now, merchant, channel, market (NULL = all).
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as window_end,
        $now::timestamptz   as as_of,
        $merchant::text     as merchant,
        $channel::text      as channel,
        $market::text       as market
),

latest_report as (
    select pr.*
    from po_progress as pr
    cross join params as p
    where pr.observed_at <= p.as_of
    qualify row_number() over (partition by pr.po_id order by pr.observed_at desc) = 1
),

pos as (
    select
        po.po_id,
        po.supplier_id,
        s.name as supplier_name,
        s.tier,
        po.sku,
        po.warehouse_id,
        w.market,
        po.quantity_ordered,
        po.ordered_at,
        po.promised_ship_date,
        coalesce(r.status, po.status) as status,
        coalesce(r.quantity_produced, 0) as quantity_produced,
        coalesce(r.quantity_qc_passed, 0) as quantity_qc_passed,
        coalesce(r.quantity_shipped, 0) as quantity_shipped,
        r.observed_at as last_report_at
    from purchase_orders as po
    cross join params as p
    left join latest_report as r using (po_id)
    left join suppliers as s using (supplier_id)
    left join warehouses as w on w.warehouse_id = po.warehouse_id
    where (po.ordered_at is null or po.ordered_at <= p.as_of)
      and coalesce(r.status, po.status, '') <> 'cancelled'
      and (p.market is null or w.market = p.market)
),

measured as (
    select
        pos.*,
        coalesce(status, 'open') not in ('shipped', 'closed') as is_open,
        quantity_produced / nullif(quantity_ordered, 0)::double as produced_pct,
        quantity_qc_passed / nullif(quantity_ordered, 0)::double as qc_pct,
        quantity_shipped / nullif(quantity_ordered, 0)::double as shipped_pct,
        greatest(0.0, least(1.0,
            date_diff('second', ordered_at, p.as_of)
            / nullif(date_diff('second', ordered_at, promised_ship_date), 0)::double
        )) as expected_pct
    from pos
    cross join params as p
),

final as (
    select
        m.* exclude (is_open),
        coalesce(m.is_open and m.promised_ship_date < p.as_of, false) as is_late,
        coalesce(m.is_open and m.produced_pct < m.expected_pct - 0.10, false) as is_behind,
        m.produced_pct - m.expected_pct as gap_pct
    from measured as m
    cross join params as p
    where m.is_open
       or (m.promised_ship_date >= p.window_start and m.promised_ship_date < p.window_end)
)

select * from final
order by is_late desc, gap_pct nulls last, promised_ship_date, po_id
