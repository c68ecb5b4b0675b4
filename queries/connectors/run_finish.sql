-- run_finish: closes one connector run with its outcome.
-- Returns nothing; updates the sync_runs row $run_id (status ok | partial | failed, row counts,
-- newest source timestamp seen, short secret-free error text).
update sync_runs
set finished_at = $finished_at,
    status = $status,
    rows_fetched = $rows_fetched,
    rows_written = $rows_written,
    rows_rejected = $rows_rejected,
    newest_record_at = $newest_record_at,
    error = $error
where run_id = $run_id
