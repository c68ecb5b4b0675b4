-- Mark open alerts nobody acknowledged by $deadline (opened at or before it), unless snoozed past
-- $now; each is marked once.
-- Params: $now, $deadline.
-- Returns, per alert marked: alert_id, severity, title, detail, rule, entity_id, playbook.
update alerts set
    ack_overdue_at = $now,
    updated_at = $now
where state = 'open'
  and ack_overdue_at is null
  and opened_at <= $deadline
  and (snoozed_until is null or snoozed_until <= $now)
returning alert_id, severity, title, detail, rule, entity_id, playbook
