-- audit_filters: who and which actions appear in the audit trail (the Audit page's filter choices).
-- grain: one row per (actor, action). returns: actor, actor_name, action
select actor, max(actor_name) as actor_name, action
from audit_log
group by actor, action
order by actor, action
