-- The alert a person is about to change, as it is inside their transaction.
-- Grain: one row, or none when the alert does not exist.
-- Columns: alert_id, state, owner, snoozed_until, severity. Params: $alert_id.
select alert_id, state, owner, snoozed_until, severity
from alerts
where alert_id = $alert_id
