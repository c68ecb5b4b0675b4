-- Append one change to the alert log.
-- Params: $alert_id, $logged_at, $actor, $action, $old_value, $new_value, $note.
insert into alert_log (alert_id, logged_at, actor, action, old_value, new_value, note)
values ($alert_id, $logged_at, $actor, $action, $old_value, $new_value, $note)
