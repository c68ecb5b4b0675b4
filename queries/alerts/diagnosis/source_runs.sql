-- Diagnosis source_runs: the last 10 sync runs of the source in $entity_id up to $now.
-- Grain: one row per run, newest first. Columns: started_at, finished_at, status, rows_fetched,
-- rows_written, rows_rejected, duration_s (s), error.
-- Params: $now, $entity_id.
select
    started_at,
    finished_at,
    status,
    rows_fetched,
    rows_written,
    rows_rejected,
    round(epoch(finished_at - started_at), 1) as duration_s,
    error
from sync_runs
where source = $entity_id
  and started_at <= $now
order by started_at desc
limit 10
