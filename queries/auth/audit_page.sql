-- audit_page: the audit trail for the Audit page, newest first. Append-only table, read only here.
-- params: actor (NULL = everyone), action (NULL = every action), start, end (on happened_at), row_limit.
-- grain: one row per audit row.
-- returns: audit_id, happened_at, wall_at, actor, actor_name, roles, merchant_id, origin, via, action, target, detail
select audit_id, happened_at, wall_at, actor, actor_name, roles, merchant_id, origin, via, action,
       target, detail::varchar as detail
from audit_log
where ($actor is null or actor = $actor)
  and ($action is null or action = $action)
  and happened_at >= $start and happened_at < $end
order by audit_id desc
limit $row_limit
