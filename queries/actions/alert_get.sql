-- Actions: one alert as a playbook plans from it. Grain: at most one row. Params: $alert_id.
select alert_id, rule, entity_type, entity_id, severity, state, metric, threshold, opened_at
from alerts
where alert_id = $alert_id
