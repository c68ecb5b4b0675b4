-- lake_run_start: records the start of one connector run on the DuckLake store (no sequences there).
-- Returns nothing; the caller chose $run_id (connectors/run_writers.py: wall-clock milliseconds and
-- random bits, unique across hosts without asking anyone).
-- Params: $run_id (bigint), $source (configured source name), $started_at (timestamptz, injected clock).
insert into sync_runs (run_id, source, started_at, status, rows_fetched, rows_written, rows_rejected)
values ($run_id, $source, $started_at, 'running', 0, 0, 0)
