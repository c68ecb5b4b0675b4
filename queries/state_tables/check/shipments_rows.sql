-- Test check: the stored shipments as the "in transit as of" replay reads them, by id.
select shipment_id, created_at, shipped_at, delivered_at, eta, tag, updated_at from shipments order by shipment_id;
