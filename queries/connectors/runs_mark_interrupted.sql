-- runs_mark_interrupted: closes runs of $source left `running` by a process that died mid-run.
-- Returns nothing. Safe because one process owns the database and the scheduler never runs one
-- source twice at once, so any `running` row of this source is a leftover.
update sync_runs
set status = 'failed',
    finished_at = coalesce(finished_at, $now),
    error = coalesce(error, 'interrupted: the process stopped before the run finished')
where source = $source
  and status = 'running'
