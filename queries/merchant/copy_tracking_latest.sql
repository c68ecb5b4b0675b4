-- Merchant scope: the newest checkpoint of each of the merchant's parcels (current-state table of
-- migration 020; a shipment's row depends only on its own checkpoints, all copied above).
insert into tracking_latest by name
select * from src.tracking_latest where shipment_id in (select shipment_id from shipments);
