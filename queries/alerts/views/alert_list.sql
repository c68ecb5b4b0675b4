-- The alert list for the alerts page, as of $now.
-- Grain: one row per alert opened in [$start, $end) or still unresolved, filtered by $severity,
-- $state ("active" = not resolved, "snoozed" = unresolved and snoozed past $now, else a state
-- value) and $owner (each NULL = all); most urgent
-- first (unacknowledged red, then red, then by opened_at desc).
-- Columns: the alerts table plus snoozed (bool), minutes_open (min since opened, to resolution
-- when resolved) and ack_minutes (time to acknowledge, min; null while unacknowledged).
-- Params: $now, $start, $end, $severity, $state, $owner.
with listed as (
    select
        a.*,
        coalesce(a.snoozed_until > $now, false) and a.state <> 'resolved' as snoozed,
        epoch(coalesce(a.resolved_at, $now::timestamptz) - a.opened_at) / 60 as minutes_open,
        epoch(a.acknowledged_at - a.opened_at) / 60 as ack_minutes
    from alerts as a
    where (a.state <> 'resolved' or (a.opened_at >= $start and a.opened_at < $end))
),

final as (
    select *
    from listed
    where ($severity is null or severity = $severity)
      and ($owner is null or owner = $owner)
      and ($state is null
           or ($state = 'active' and state <> 'resolved')
           or ($state = 'snoozed' and snoozed)
           or (state = $state))
)

select *
from final
order by
    case when state = 'resolved' then 2 else 0 end + case when snoozed then 1 else 0 end,
    case when severity = 'red' and state = 'open' then 0 when severity = 'red' then 1 else 2 end,
    opened_at desc,
    alert_id desc
