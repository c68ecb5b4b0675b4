-- An action's status changes, oldest first.
select transition_id, action_id, happened_at, wall_at, from_status, to_status, actor, note
from action_transitions
where action_id = $action_id
order by transition_id
