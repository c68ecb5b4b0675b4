-- Append changes to the alert log. Reads `staged` (alert_id, logged_at, actor, action, old_value,
-- new_value, note).
insert into alert_log (alert_id, logged_at, actor, action, old_value, new_value, note)
select alert_id, logged_at, actor, action, old_value, new_value, note
from staged
