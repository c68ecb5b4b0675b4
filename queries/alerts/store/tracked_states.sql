-- The engine's memory for the rules that ran, each key with the alert it points at (if any).
-- Grain: one row per alert_state row whose rule is in $rules.
-- Columns: rule, entity_type, entity_id, hits, misses, first_hit_at, open_alert_id, suppressed,
--   and the pointed-at alert's state, severity, escalated_at (NULL when it points at none).
-- Params: $rules (list of rule names).
select
    s.rule, s.entity_type, s.entity_id, s.hits, s.misses, s.first_hit_at,
    s.open_alert_id, s.suppressed, a.state, a.severity, a.escalated_at
from alert_state s
left join alerts a on a.alert_id = s.open_alert_id
where list_contains($rules, s.rule)
