-- The sync throughput of a set of connector runs (bench/bench_lake.py): rows fetched by every run and
-- the seconds from the first run's start to the last run's end (the workers run a system clock).
select sum(rows_fetched) as rows, epoch(max(finished_at) - min(started_at)) as s
from sync_runs
