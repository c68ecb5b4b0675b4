-- Test check: every stored checkpoint (the raw history a test replays on its own).
select shipment_id, checkpoint_time, created_at, tag, message from tracking_events;
