-- Suppliers: the progress reports of one PO ($po_id) up to $now, against the straight-line plan.
-- Grain: one row per progress report. produced_pct / qc_pct / shipped_pct and expected_pct are 0–1
-- of quantity_ordered (expected = elapsed share of ordered_at → promised_ship_date at observed_at).
-- Params: now, po_id (the window and the shared filters do not apply).
with final as (
    select
        pr.observed_at,
        pr.quantity_produced / nullif(po.quantity_ordered, 0)::double as produced_pct,
        pr.quantity_qc_passed / nullif(po.quantity_ordered, 0)::double as qc_pct,
        pr.quantity_shipped / nullif(po.quantity_ordered, 0)::double as shipped_pct,
        greatest(0.0, least(1.0,
            date_diff('second', po.ordered_at, pr.observed_at)
            / nullif(date_diff('second', po.ordered_at, po.promised_ship_date), 0)::double
        )) as expected_pct
    from po_progress as pr
    inner join purchase_orders as po using (po_id)
    where pr.po_id = $po_id::text and pr.observed_at <= $now::timestamptz
)

select * from final
order by observed_at
