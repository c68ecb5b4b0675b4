-- source_status: the health of every data source at $now, one row per source (those configured in
-- tower.toml, passed as the parallel lists $names / $intervals (wall seconds), plus any source seen
-- in sync_runs). Columns:
--   last_run_*        the most recent run (status may be 'running'); last_status is its status
--   last_ok_at        when the newest ok/partial run finished (TIMESTAMPTZ, UTC)
--   rows_fetched / rows_written / rows_rejected / error / duration_s   of the most recent finished run
--   newest_record_at  newest source timestamp ever synced; data_age_s = $now − it (seconds)
--   since_ok_s        $now − last_ok_at (seconds)
--   stale_after_s     interval × $speed (clock speed: sim seconds per wall second) × $stale_factor
--   health            'failed' (last finished run failed) | 'stale' (no ok run for stale_after_s)
--                     | 'never' (configured, no run yet) | 'partial' (some records rejected) | 'ok'
--                     | 'manual' (sheets uploaded by hand, sources named upload:*: never stale, and a
--                       rejected sheet is reported where it was uploaded, not as a failing feed)
--   runs, failed_runs counts over all history
-- Grain: one row per source, alarming ones first.
with configured as (
    select unnest($names::varchar[]) as source, unnest($intervals::double[]) as interval_s
),

runs as (
    select *
    from sync_runs
    where source is not null
),

last_run as (
    select source, run_id as last_run_id, status as last_status, started_at as last_run_at
    from runs
    qualify row_number() over (partition by source order by started_at desc nulls last, run_id desc) = 1
),

last_finished as (
    select
        source,
        status as finished_status,
        finished_at as last_finished_at,
        rows_fetched,
        rows_written,
        rows_rejected,
        error,
        epoch(finished_at - started_at) as duration_s
    from runs
    where status <> 'running'
    qualify row_number() over (partition by source order by started_at desc nulls last, run_id desc) = 1
),

history as (
    select
        source,
        max(finished_at) filter (where status in ('ok', 'partial')) as last_ok_at,
        max(newest_record_at) as newest_record_at,
        count(*) as runs,
        count(*) filter (where status = 'failed') as failed_runs
    from runs
    group by source
),

sources as (
    select source from configured
    union
    select source from runs
),

joined as (
    select
        s.source,
        c.interval_s is not null as configured,
        coalesce(c.interval_s, $default_interval_s) * $speed * $stale_factor as stale_after_s,
        r.last_run_id,
        r.last_status,
        r.last_run_at,
        f.finished_status,
        f.last_finished_at,
        h.last_ok_at,
        f.rows_fetched,
        f.rows_written,
        f.rows_rejected,
        f.error,
        f.duration_s,
        h.newest_record_at,
        epoch($now - h.newest_record_at) as data_age_s,
        epoch($now - h.last_ok_at) as since_ok_s,
        coalesce(h.runs, 0) as runs,
        coalesce(h.failed_runs, 0) as failed_runs
    from sources s
    left join configured c using (source)
    left join last_run r using (source)
    left join last_finished f using (source)
    left join history h using (source)
),

final as (
    select
        *,
        case
            when source like 'upload:%' then 'manual'
            when finished_status = 'failed' then 'failed'
            when last_run_id is null then 'never'
            when last_ok_at is null or since_ok_s > stale_after_s then 'stale'
            when finished_status = 'partial' then 'partial'
            else 'ok'
        end as health
    from joined
)

select *
from final
order by
    case health when 'failed' then 0 when 'stale' then 1 when 'never' then 2 when 'partial' then 3 else 4 end,
    source
