-- Unresolved alerts of the rules that ran that no alert_state row points at (their state row was
-- lost, or another writer opened them): the engine adopts them rather than opening a twin.
-- Grain: one row per such alert.
-- Columns: rule, entity_type, entity_id, alert_id, state, severity, escalated_at.
-- Params: $rules (list of rule names).
select a.rule, a.entity_type, a.entity_id, a.alert_id, a.state, a.severity, a.escalated_at
from alerts a
left join alert_state s on s.open_alert_id = a.alert_id
where a.open_key is not null
  and s.open_alert_id is null
  and list_contains($rules, a.rule)
