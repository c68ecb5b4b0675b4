-- open → acknowledged, with who and their (optional) comment.
-- Params: $alert_id, $now, $by, $comment.
update alerts set
    state = 'acknowledged',
    acknowledged_at = $now,
    acknowledged_by = $by,
    ack_comment = $comment,
    updated_at = $now
where alert_id = $alert_id
