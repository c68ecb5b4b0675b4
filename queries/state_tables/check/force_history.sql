-- Test check: make every reader take the history path (each state row claims a newest row at
-- +infinity, so every entity "has a newer row" than any moment): KPIs then follow the raw definitions.
-- Shipments: their whole timeline is recomputed from tracking_events into tracking_superseded, the
-- newest checkpoint included (superseded at +infinity), and shipment_latest is the raw shipments with
-- a newest checkpoint at +infinity, so as-of reads come from the raw history alone, not from anything
-- the writes maintained.
update stock_latest set observed_at = 'infinity';
update po_progress_latest set observed_at = 'infinity';
update tracking_latest set checkpoint_time = 'infinity';
update tracking_fixes set last_time = 'infinity';
delete from tracking_superseded;
insert into tracking_superseded
select shipment_id, checkpoint_time, created_at, tag, message,
    coalesce(lead(checkpoint_time) over (partition by shipment_id order by checkpoint_time), 'infinity')
from (
    select shipment_id, checkpoint_time, created_at, tag, message
    from tracking_events
    where checkpoint_time is not null
    qualify row_number() over (
        partition by shipment_id, checkpoint_time order by created_at desc, tag, message
    ) = 1
);
delete from shipment_latest;
insert into shipment_latest
select shipment_id, direction, mode, carrier, order_id, warehouse_id, destination_country, tag, eta,
    shipped_at, delivered_at, last_checkpoint_at, created_at, updated_at, 'infinity', null
from shipments;
