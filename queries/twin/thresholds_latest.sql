-- Twin thresholds in force: the latest value per playbook × trigger condition (twin_thresholds).
-- Grain: one row per playbook × name. Columns: playbook, name, value, scenario, runs, computed_at.
-- Params: $playbook (NULL = every playbook).
select playbook, name, value, scenario, runs, computed_at
from twin_thresholds
where $playbook is null or playbook = $playbook
qualify row_number() over (partition by playbook, name order by computed_at desc) = 1
order by playbook, name
