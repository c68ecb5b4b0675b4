-- webhook_status: per source that has received or refused webhooks: seconds since the last verified
-- webhook was received, events loaded in the last hour, deliveries refused for their signature.
-- Times are real (wall-clock) UTC: $wall_now is the real time now, not the simulated clock.
with received as (
    select source,
           max(received_at) as last_received_at,
           count(*) filter (where status = 'loaded' and loaded_at >= $wall_now - interval 1 hour) as loaded_last_hour,
           count(*) filter (where status in ('invalid', 'failed')) as not_applied
    from webhook_events
    group by source
)
select coalesce(r.source, j.source) as source,
       r.last_received_at,
       date_diff('millisecond', r.last_received_at, $wall_now::timestamptz) / 1000.0 as received_ago_s,
       coalesce(r.loaded_last_hour, 0) as loaded_last_hour,
       coalesce(r.not_applied, 0) as not_applied,
       coalesce(j.rejected, 0) as rejected_signatures,
       j.last_rejected_at
from received r
full outer join webhook_rejections j on j.source = r.source
order by source
