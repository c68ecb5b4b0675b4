-- After a batch of shipments is applied: the shipment_latest rows of the shipments the batch names,
-- again from shipments (as merged: an older version in the batch changed nothing) and tracking_latest
-- (migration 023; a batch of checkpoints updates the newest checkpoint in tracking_events.sql).
-- `_state_batch` is the batch. (delete + insert: DuckLake tables have no keys to replace on)
create or replace temp table _state_shipments as
select distinct cast(shipment_id as text) as shipment_id from _state_batch;

delete from shipment_latest where shipment_id in (select shipment_id from _state_shipments);

insert into shipment_latest
select s.shipment_id, s.direction, s.mode, s.carrier, s.order_id, s.warehouse_id, s.destination_country,
    s.tag, s.eta, s.shipped_at, s.delivered_at, s.last_checkpoint_at, s.created_at, s.updated_at,
    l.checkpoint_time, l.tag
from shipments s
semi join _state_shipments t using (shipment_id)
left join tracking_latest l using (shipment_id);

drop table _state_shipments;
