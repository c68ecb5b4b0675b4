-- Record one status change of an action (append-only).
insert into action_transitions (action_id, happened_at, wall_at, from_status, to_status, actor, note)
values ($action_id, $now, $wall_at, $from_status, $to_status, $actor, $note)
