-- actor_names: the name the audit trail last recorded for each actor id (the OIDC subject, "local",
-- "automatic:<playbook>"), so the action log — which stores who as that id — shows people by name.
-- grain: one row per actor in audit_log.
-- params: none
-- returns: actor, actor_name
select actor, arg_max(actor_name, happened_at) as actor_name
from audit_log
group by actor
