-- One proposed action; a second proposal with the same idempotency key adds nothing (returns no row).
insert into actions (idempotency_key, execution_id, playbook, step, alert_id, kind, mode, params,
                     diagnosis, estimated_cost, status, proposed_by, proposed_at, updated_at)
values ($key, $execution_id, $playbook, $step, $alert_id, $kind, $mode, $params,
        $diagnosis, $estimated_cost, 'proposed', $proposed_by, $now, $now)
on conflict (idempotency_key) do nothing
returning action_id
