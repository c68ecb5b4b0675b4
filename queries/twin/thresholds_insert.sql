-- Record one trigger threshold the twin's decision table found for a playbook.
-- Params: $playbook, $name, $value, $scenario, $runs, $at.
insert into twin_thresholds (playbook, name, value, scenario, runs, computed_at)
values ($playbook, $name, $value, $scenario, $runs, $at)
