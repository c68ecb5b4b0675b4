-- Suppliers: every PO active as of min(end, now) with its progress against the straight-line plan,
--   late and most behind first. The columns and the plan are po_state_at's (queries/kpi/_facts.sql),
--   the same facts the supplier_progress_vs_plan KPI and the po_behind_plan alert read.
-- Adds: qc_pct, shipped_pct (percent of the ordered quantity); is_late (= late); is_behind
--   (unfinished and more than 10 points below plan).
-- Params: start, end, now, market (the destination warehouse's); POs belong to no merchant.
select
    * exclude (dimension_value),
    100.0 * quantity_qc_passed / quantity_ordered as qc_pct,
    100.0 * quantity_shipped / quantity_ordered as shipped_pct,
    late as is_late,
    not finished and behind_points > 10 as is_behind
from po_state_at(
    coalesce($start::timestamptz, '-infinity'::timestamptz),
    least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz),
    $market::text, null, null
)
order by late desc, behind_points desc, promised_ship_date, po_id
