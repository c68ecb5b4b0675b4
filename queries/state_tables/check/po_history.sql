-- Test check: the raw definition — newest progress report per PO before $at, from history alone.
select po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source
from po_progress
where observed_at < $at::timestamptz
qualify row_number() over (partition by po_id order by observed_at desc) = 1
order by all;
