-- Test check: po_progress_latest_before($at) (state table + history fallback), in a fixed order.
select * from po_progress_latest_before($at::timestamptz) order by all;
