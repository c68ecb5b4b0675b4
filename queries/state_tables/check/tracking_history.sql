-- Test check: the raw definition — newest checkpoint per shipment before $at, from history alone.
select shipment_id, checkpoint_time, created_at, tag, message
from tracking_events
where checkpoint_time < $at::timestamptz
qualify row_number() over (
    partition by shipment_id order by checkpoint_time desc, created_at desc, tag, message
) = 1
order by all;
