-- Ids of the actions in one status, oldest first.
select action_id from actions where status = $status order by action_id
