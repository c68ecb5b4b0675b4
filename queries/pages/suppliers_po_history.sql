-- Suppliers: the progress reports of one PO ($po_id) up to $now, against the straight-line plan.
-- Grain: one row per progress report. produced_pct / qc_pct / shipped_pct and expected_pct are 0–1
-- of quantity_ordered (expected = elapsed share of ordered_at → promised_ship_date at observed_at).
-- Params: start, end, now, merchant, channel, market (only now applies), po_id.
with params as (
    select
        $start::timestamptz as window_start,
        $end::timestamptz   as window_end,
        $now::timestamptz   as as_of,
        $merchant::text     as merchant,
        $channel::text      as channel,
        $market::text       as market,
        $po_id::text        as po_id
),

final as (
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
    cross join params as p
    where pr.po_id = p.po_id and pr.observed_at <= p.as_of
)

select * from final
order by observed_at
