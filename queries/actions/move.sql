-- Move an action from one status to another (compare-and-set: no row returned when it was no longer
-- in $from_status, e.g. another worker got there first). A NULL argument keeps the column as it is.
update actions set
    status           = $to_status,
    updated_at       = $now,
    attempts         = attempts + $attempts_add,
    decided_by       = coalesce($decided_by, decided_by),
    decided_at       = coalesce($decided_at, decided_at),
    decision_comment = coalesce($decision_comment, decision_comment),
    sent_at          = coalesce(sent_at, $sent_at),
    acknowledged_at  = coalesce(acknowledged_at, $acknowledged_at),
    done_at          = coalesce(done_at, $done_at),
    external_id      = coalesce($external_id, external_id),
    request          = coalesce($request, request),
    response         = coalesce($response, response),
    last_error       = coalesce($last_error, last_error),
    vendor_cost      = coalesce($vendor_cost, vendor_cost),
    eta              = coalesce($eta, eta),
    manual_document  = coalesce($manual_document, manual_document),
    manual_message   = coalesce($manual_message, manual_message)
where action_id = $action_id and status = $from_status
returning action_id
