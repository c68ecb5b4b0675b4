-- pack_tracking_events: checkpoints recorded in [$start, $end) for any shipment.
-- grain: one row per checkpoint. returns: the columns of `tracking_events`
select e.*
from tracking_events e
where e.checkpoint_time >= $start::timestamptz
  and e.checkpoint_time < $end::timestamptz
order by e.shipment_id, e.checkpoint_time
