-- Drop the engine's memory for the rules that ran (it is rewritten in the same transaction).
-- Params: $rules (list of rule names).
delete from alert_state
where list_contains($rules, rule)
