-- Actions: unresolved alerts of the rules automatic playbooks watch, oldest first.
-- Grain: one row per alert. Params: $rules (list of rule names).
select alert_id, rule, entity_type, entity_id, severity, state, metric, threshold, opened_at
from alerts
where state <> 'resolved' and list_contains($rules, rule)
order by opened_at, alert_id
