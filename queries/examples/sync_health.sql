-- Data source health
-- The latest sync run of every source: status, rows and how old its newest record is at $now.
-- Grain: one row per source. Units: rows, seconds (age_s).
with latest as (
    select *
    from sync_runs
    qualify row_number() over (partition by source order by started_at desc) = 1
),

final as (
    select source, status, started_at, finished_at, rows_fetched, rows_written, rows_rejected,
           newest_record_at, round(epoch($now - newest_record_at)) as age_s, error
    from latest
)

select * from final
order by source
