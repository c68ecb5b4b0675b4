-- One more try that failed and will be retried: counted, with its error, status unchanged.
update actions set attempts = attempts + 1, last_error = $last_error, updated_at = $now
where action_id = $action_id
