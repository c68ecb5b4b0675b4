-- recent_runs: the latest sync runs, newest first, optionally for one $source (NULL = all), at most
-- $limit rows. duration_s is finished_at − started_at in seconds (NULL while running); times are
-- TIMESTAMPTZ UTC. Grain: one row per sync run.
with runs as (
    select
        run_id,
        source,
        started_at,
        finished_at,
        status,
        rows_fetched,
        rows_written,
        rows_rejected,
        newest_record_at,
        epoch(finished_at - started_at) as duration_s,
        error
    from sync_runs
    where ($source is null or source = $source)
),

final as (
    select *
    from runs
    order by started_at desc nulls last, run_id desc
    limit $limit
)

select * from final
