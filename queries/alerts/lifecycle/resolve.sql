-- Resolve by hand, with who and the note; frees the open_key so the rule may open a new alert.
-- Params: $alert_id, $now, $by, $note.
update alerts set
    state = 'resolved',
    open_key = null,
    resolved_at = $now,
    resolved_by = $by,
    resolution_note = $note,
    updated_at = $now
where alert_id = $alert_id
