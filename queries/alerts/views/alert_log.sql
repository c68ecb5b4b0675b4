-- The history of one alert ($alert_id): every state change and delivery, oldest first.
-- Grain: one row per alert_log entry. Columns: logged_at, actor, action, old_value, new_value, note.
-- Params: $alert_id.
select logged_at, actor, action, old_value, new_value, note
from alert_log
where alert_id = $alert_id
order by logged_at, log_id
