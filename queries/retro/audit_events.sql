-- audit_events: who did what in a window, from the audit trail (issue 12): acknowledgements,
-- assignments, snoozes, resolutions, annotations, new events, actions and approvals. Reading is
-- left out (downloads, console queries), and so are sign-ins and wall-screen links.
-- params: start, end. grain: one row per audit row.
-- returns: happened_at, actor_name, action, target
select happened_at, coalesce(actor_name, actor) as actor_name, action, target
from audit_log
where happened_at >= $start and happened_at < $end
  and action not in ('export', 'console.query')
  and split_part(action, '.', 1) not in ('auth', 'wall', 'audit')
order by happened_at, audit_id
