-- Record the outcome of one webhook delivery (after its retries).
-- Params: $alert_id, $channel, $platform, $event, $severity, $status, $attempts, $http_status,
--   $error, $sent_at.
insert into alert_notifications (alert_id, channel, platform, event, severity, status, attempts,
                                 http_status, error, sent_at)
values ($alert_id, $channel, $platform, $event, $severity, $status, $attempts, $http_status,
        $error, $sent_at)
