-- Give the alert an owner. Params: $alert_id, $now, $owner.
update alerts set
    owner = $owner,
    updated_at = $now
where alert_id = $alert_id
