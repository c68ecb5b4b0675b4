-- 007_alert_uniqueness: at most one unresolved alert per (rule, entity), enforced by the store.
-- alerts.open_key is rule, entity_type and entity_id joined by the unit separator (chr(31)) while
-- the alert is open or acknowledged, and NULL once it is resolved (the engine and lifecycle.resolve
-- clear it in the same statement that resolves). A unique index on it makes a second open alert for
-- the same key fail, whichever writer, thread or process tries (NULLs do not collide).
-- Until now only alert_state.open_alert_id kept the rule, so a writer that lost track of it (two
-- engines on one file, a state row lost) could open a twin; twins already in a database are
-- resolved here (the oldest stays open), with an alert_log row saying which one they duplicated.
-- (alert_log also gains the action 'deescalated': an open alert's severity now follows its rule
-- both ways, red → yellow logged like yellow → red; alerts.escalated_at now records when the alert
-- was first red, its opening included, so only that first red is notified.)

alter table alerts add column if not exists open_key text;  -- rule, entity type and entity id of an unresolved alert (NULL once resolved): unique, so one open alert per (rule, entity)

-- The index comes first, while the new column is all NULL: DuckDB cannot build an index on a table
-- with updates outstanding in the same transaction; once built, it is checked on every write below.
create unique index if not exists alerts_one_open_per_entity on alerts (open_key);

create temporary table alert_twins as
select
    alert_id,
    first_value(alert_id) over (partition by rule, entity_type, entity_id order by alert_id) as kept_id
from alerts
where state <> 'resolved'
qualify alert_id <> kept_id;

insert into alert_log (alert_id, logged_at, actor, action, old_value, new_value, note)
select t.alert_id, now(), 'migration', 'resolved', a.state, 'resolved', 'duplicate of alert #' || t.kept_id
from alert_twins as t
inner join alerts as a using (alert_id);

update alerts
set state = 'resolved', resolved_at = now(), resolved_by = 'migration',
    resolution_note = 'duplicate of alert #' || t.kept_id, updated_at = now()
from alert_twins as t
where alerts.alert_id = t.alert_id;

update alert_state
set open_alert_id = t.kept_id
from alert_twins as t
where alert_state.open_alert_id = t.alert_id;

drop table alert_twins;

update alerts
set open_key = rule || chr(31) || entity_type || chr(31) || entity_id
where state <> 'resolved';
