-- Test/bench check: every row of tracking_superseded, in a fixed order.
select shipment_id, checkpoint_time, created_at, tag, message, superseded_at from tracking_superseded order by all;
