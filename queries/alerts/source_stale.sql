-- Rule source_stale: a connector source that has stopped delivering (stale) or keeps failing.
-- Grain: one row per source that has run at least once by $now (sync_runs, or named in the
-- $sources JSON list of configured sources, [{"source", "interval_minutes"}], interval in clock
-- time). A source is judged against its own pace: yellow when its last successful run (status ok
-- or partial) finished at least max($yellow_minutes, $stale_intervals × its interval) ago or its
-- latest run failed; red at max($red_minutes, $red_intervals × its interval) or after
-- $red_failures failed runs in a row. (The Sources page calls a source stale at 3 intervals too.)
-- metric = minutes since the last successful run (since the first run when none succeeded);
-- threshold = minutes (the crossed one; for a failure streak, the yellow one — the title then names
-- the failure count that made it red).
-- Params: $now, $sources, $yellow_minutes, $red_minutes, $stale_intervals, $red_intervals,
--   $red_failures.
with configured as (
    select unnest(from_json($sources, '[{"source": "varchar", "interval_minutes": "double"}]'),
                  recursive := true)
),

runs as (
    select r.*
    from sync_runs as r
    where r.started_at <= $now::timestamptz
      and (r.source in (select source from configured) or (select count(*) from configured) = 0)
),

per_source as (
    select
        source,
        min(started_at) as first_run_at,
        max(coalesce(finished_at, started_at)) filter (where status in ('ok', 'partial')) as last_ok_at,
        arg_max(status, started_at) as latest_status,
        arg_max(error, started_at) as latest_error
    from runs
    group by all
),

streaks as (
    select p.source, count(r.run_id) as failures
    from per_source as p
    left join runs as r
        on r.source = p.source
       and r.status = 'failed'
       and r.started_at > coalesce(p.last_ok_at, '-infinity'::timestamptz)
    group by all
),

judged as (
    select
        p.*,
        s.failures,
        epoch($now::timestamptz - coalesce(p.last_ok_at, p.first_run_at)) / 60 as minutes_since_ok,
        greatest($yellow_minutes::double, $stale_intervals::double * coalesce(c.interval_minutes, 0)) as yellow_m,
        greatest($red_minutes::double, $red_intervals::double * coalesce(c.interval_minutes, 0)) as red_m
    from per_source as p
    inner join streaks as s using (source)
    left join configured as c using (source)
),

final as (
    select
        case when j.minutes_since_ok >= j.red_m or j.failures >= $red_failures::integer
             then 'red' else 'yellow' end as severity,
        'source' as entity_type,
        j.source as entity_id,
        'Source ' || j.source || case when j.latest_status = 'failed' then ' failing' else ' stale' end
            || ': no fresh data for ' || floor(j.minutes_since_ok)::bigint || ' min'
            -- a red that comes from the failure streak says so, not only the (younger) age
            || case when j.failures >= $red_failures::integer and j.minutes_since_ok < j.red_m
                    then ', ' || j.failures || ' failed runs in a row' else '' end as title,
        'latest run ' || coalesce(j.latest_status, '?') || ', ' || j.failures || ' failures in a row'
            || ' (red at ' || $red_failures::integer || ' or ' || floor(j.red_m)::bigint || ' min)'
            || coalesce('; ' || j.latest_error, '') as detail,
        j.minutes_since_ok as metric,
        case when j.minutes_since_ok >= j.red_m then j.red_m else j.yellow_m end as threshold
    from judged as j
    where j.minutes_since_ok >= j.yellow_m
       or j.latest_status = 'failed'
)

select * from final
