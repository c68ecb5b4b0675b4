-- lake_runs_mark_interrupted: closes runs of $source left `running` by a worker that died mid-run,
-- on the DuckLake store. Returns nothing. Workers on other hosts may be running this source right
-- now, so only a run that started long ago counts as a leftover: its run_id (wall-clock milliseconds
-- in the high bits, connectors/run_writers.py) is below $started_before_id.
update sync_runs
set status = 'failed',
    finished_at = coalesce(finished_at, $now),
    error = coalesce(error, 'interrupted: the process stopped before the run finished')
where source = $source
  and status = 'running'
  and run_id < $started_before_id
