-- Red alerts nobody has acknowledged yet, as of $now (the banner on every page).
-- Grain: one row per alert in state open, severity red, not snoozed past $now; newest first.
-- Columns: alert_id, rule, title, opened_at, minutes_open (min, clock time).
-- Params: $now.
select
    alert_id,
    rule,
    title,
    opened_at,
    epoch($now::timestamptz - opened_at) / 60 as minutes_open
from alerts
where state = 'open'
  and severity = 'red'
  and (snoozed_until is null or snoozed_until <= $now)
order by opened_at desc, alert_id desc
