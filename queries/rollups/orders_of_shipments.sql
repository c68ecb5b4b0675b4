-- The orders the stored shipments $ids carry (run before and after a shipments batch: a shipment
-- re-assigned to another order touches both).
select distinct order_id from shipments
where shipment_id in (select unnest($ids::text[])) and order_id is not null;
