-- Bring open alerts up to what their rule sees now: title, detail, metric, threshold and the
-- severity the rule gives for that metric (both ways). escalated_at keeps the first rise to red.
-- Reads `staged` (alert_id, title, detail, metric, threshold, severity, escalate).
-- Params: $now.
update alerts set
    title = s.title,
    detail = s.detail,
    metric = s.metric,
    threshold = s.threshold,
    severity = s.severity,
    last_seen_at = $now,
    escalated_at = case when s.escalate and alerts.escalated_at is null then $now
                        else alerts.escalated_at end,
    updated_at = $now
from staged as s
where alerts.alert_id = s.alert_id
