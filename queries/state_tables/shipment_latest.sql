-- After a batch of shipments is applied: the shipment_latest rows of the shipments the batch names,
-- again from shipments (as merged: an older version in the batch changed nothing) and tracking_latest
-- (migration 023; a batch of checkpoints updates the newest checkpoint in tracking_events.sql).
-- `_state_batch` is the batch. (delete + insert: DuckLake tables have no keys to replace on)
create or replace temp table _state_shipments as
select distinct cast(shipment_id as text) as shipment_id from _state_batch;

delete from shipment_latest where shipment_id in (select shipment_id from _state_shipments);

insert into shipment_latest
select * from shipment_latest_source semi join _state_shipments using (shipment_id);

drop table _state_shipments;
