-- Open alert counts by severity as of $now: alerts not resolved and not snoozed past $now.
-- Grain: one row per severity present (yellow | red). Columns: severity, alerts (count),
-- unacknowledged (count still in state open).
-- Params: $now.
select
    severity,
    count(*) as alerts,
    count(*) filter (where state = 'open') as unacknowledged
from alerts
where state <> 'resolved'
  and (snoozed_until is null or snoozed_until <= $now)
group by all
