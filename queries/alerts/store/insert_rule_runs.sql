-- Record each rule's latest evaluation (one row per rule, replacing the previous one).
-- Reads `staged` (alert_rule_runs columns by name).
insert or replace into alert_rule_runs by name
select * from staged
