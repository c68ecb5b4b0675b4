-- Test/bench check: every row of po_progress_latest, in a fixed order.
select * from po_progress_latest order by all;
