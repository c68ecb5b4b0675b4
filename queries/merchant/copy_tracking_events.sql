-- Merchant scope: the carrier checkpoints of the merchant's parcels.
insert into tracking_events by name
select * from src.tracking_events where shipment_id in (select shipment_id from shipments);
