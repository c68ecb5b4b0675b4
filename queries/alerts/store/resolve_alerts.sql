-- The engine resolves alerts whose condition has cleared, freeing their open_key. Alerts already
-- resolved (by hand, in the meantime) are left alone.
-- Reads `staged` (alert_id, note). Params: $now.
-- Returns, per alert resolved: alert_id, severity, title, detail, rule, entity_id, playbook,
--   resolution_note (for the log and the notification).
update alerts set
    state = 'resolved',
    open_key = null,
    resolved_at = $now,
    resolved_by = 'engine',
    resolution_note = s.note,
    updated_at = $now
from staged as s
where alerts.alert_id = s.alert_id
  and alerts.state <> 'resolved'
returning alerts.alert_id, alerts.severity, alerts.title, alerts.detail, alerts.rule,
          alerts.entity_id, alerts.playbook, alerts.resolution_note
