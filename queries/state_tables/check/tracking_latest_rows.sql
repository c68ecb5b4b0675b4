-- Test/bench check: every row of tracking_latest, in a fixed order.
select shipment_id, checkpoint_time, created_at, tag, message from tracking_latest order by all;
