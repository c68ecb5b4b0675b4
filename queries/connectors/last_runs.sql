-- last_runs: the latest run per source with its outcome (for `python -m connectors status`).
-- Returns one row per source: source, status, started_at, finished_at, duration_s (seconds),
-- rows_fetched, rows_written, rows_rejected, newest_record_at, error.
with ranked as (
    select
        *,
        row_number() over (partition by source order by started_at desc, run_id desc) as rn
    from sync_runs
),

final as (
    select
        source,
        status,
        started_at,
        finished_at,
        round(epoch(finished_at) - epoch(started_at), 2) as duration_s,
        rows_fetched,
        rows_written,
        rows_rejected,
        newest_record_at,
        error
    from ranked
    where rn = 1
)

select * from final
order by source
