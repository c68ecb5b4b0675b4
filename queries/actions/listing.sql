-- Actions, newest first, each filter applying only when given.
select *
from actions
where ($statuses is null or list_contains($statuses, status))
  and ($playbook is null or playbook = $playbook)
  and ($alert_id is null or alert_id = $alert_id)
  and ($execution_id is null or execution_id = $execution_id)
  and ($since is null or proposed_at >= $since)
order by action_id desc
limit $limit
