-- One audit row (tower/auth/audit.py). Append-only: nothing in queries/ updates or deletes audit_log.
insert into audit_log (happened_at, wall_at, actor, actor_name, roles, merchant_id, origin, via, action, target, detail)
values ($at, $wall_at, $actor, $actor_name, $roles, $merchant_id, $origin, $via, $action, $target, $detail::json)
