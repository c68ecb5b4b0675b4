-- One action by its id.
select * from actions where action_id = $action_id
