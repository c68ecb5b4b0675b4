-- run_start: records the start of one connector run.
-- Returns one row: run_id (bigint) of the new `running` row in sync_runs.
-- Params: $source (configured source name), $started_at (timestamptz, injected clock).
insert into sync_runs (source, started_at, status, rows_fetched, rows_written, rows_rejected)
values ($source, $started_at, 'running', 0, 0, 0)
returning run_id
