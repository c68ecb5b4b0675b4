-- alert_timeline: alerts opened in [$start, $end) with how fast each was handled against the
-- acknowledge target. Needs the alerts migration (002); the page checks the table exists first.
-- grain: one row per alert, by opening time.
-- params: start, end, now, ack_target_minutes (the 1-hour target unless configured otherwise)
-- returns: alert_id, rule, severity, state (now), title, entity_type, entity_id, opened_at,
--   acknowledged_at, acknowledged_by, resolved_at, resolved_by, minutes_to_ack, minutes_to_resolve
--   (NULL while not yet done), ack_on_time (TRUE acknowledged within the target, FALSE acknowledged
--   late or never acknowledged past it, NULL while the target has not passed or it cleared before)
with timed as (
    select
        a.alert_id, a.rule, a.severity, a.state, a.title, a.entity_type, a.entity_id,
        a.opened_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by,
        epoch(a.acknowledged_at - a.opened_at) / 60.0 as minutes_to_ack,
        epoch(a.resolved_at - a.opened_at) / 60.0     as minutes_to_resolve
    from alerts a
    where a.opened_at >= $start::timestamptz
      and a.opened_at < $end::timestamptz
      and a.opened_at <= $now::timestamptz
),

final as (
    select
        *,
        case
            when minutes_to_ack is not null then minutes_to_ack <= $ack_target_minutes::double
            -- not acknowledged: late once the target passed before it cleared (or until now);
            -- cleared by itself within the target = nobody had to act (NULL)
            when epoch(coalesce(resolved_at, $now::timestamptz) - opened_at) / 60.0
                 > $ack_target_minutes::double then false
        end as ack_on_time
    from timed
)

select * from final
order by opened_at, alert_id
