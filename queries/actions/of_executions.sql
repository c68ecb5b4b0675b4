-- Actions of the executions $execution_ids (a list), newest first: the automatic playbook pass asks
-- once for all its open alerts instead of once per alert. Grain: one row per action.
select *
from actions
where list_contains($execution_ids, execution_id)
order by action_id desc
