-- Test check: each shipment's first and newest fix at or before $at through tracking_fixes_at (the
-- state table and its history fallback), in a fixed order.
select shipment_id, first_fix, last_fix from tracking_fixes_at($at::timestamptz) order by all;
