-- What-if page: the trigger thresholds a playbook uses now, the latest export per condition
-- (twin_thresholds, written by tower.twin.decision.export).
-- Grain: one row per condition name of $playbook. Columns: name, value, scenario, runs, computed_at.
-- Params: playbook.
select name, value, scenario, runs, computed_at
from twin_thresholds
where playbook = $playbook::text
qualify row_number() over (partition by name order by computed_at desc) = 1
order by name
