-- Hide the alert from the banner and hold its overdue escalation until $until.
-- Params: $alert_id, $now, $until.
update alerts set
    snoozed_until = $until,
    updated_at = $now
where alert_id = $alert_id
