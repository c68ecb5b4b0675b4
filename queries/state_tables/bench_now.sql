-- Bench only: the instant a dataset is "as of": its last sync (a bulk-loaded dataset without a run
-- log: its newest order), to the next minute (bench/bench_state_tables.py).
select date_trunc('minute', coalesce(
    (select max(finished_at) from sync_runs), (select max(created_at) from orders)
)) + interval 1 minute as now;
