-- alert_log: every state change of the alerts opened in [$start, $end) (the timeline's detail and
-- the data pack's alert_log).
-- grain: one row per log entry, by time. params: start, end
-- returns: log_id, alert_id, logged_at, actor, action, old_value, new_value, note
with window_alerts as (
    select alert_id
    from alerts
    where opened_at >= $start::timestamptz
      and opened_at < $end::timestamptz
),

final as (
    select l.log_id, l.alert_id, l.logged_at, l.actor, l.action, l.old_value, l.new_value, l.note
    from alert_log l
    join window_alerts using (alert_id)
)

select * from final
order by logged_at, log_id
