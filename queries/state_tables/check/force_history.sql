-- Test check: make every reader take the history path (each state row claims a newest row at
-- +infinity, so every entity "has a newer row" than any moment): KPIs then follow the raw definitions.
update stock_latest set observed_at = 'infinity';
update po_progress_latest set observed_at = 'infinity';
update tracking_latest set checkpoint_time = 'infinity';
