-- Merchant scope: alerts about one of the merchant's parcels. Alerts about markets, SKUs, stock,
-- suppliers, nodes or sources are computed over every merchant's data and stay platform-only.
insert into alerts by name
select * from src.alerts
where entity_type = 'shipment' and entity_id in (select shipment_id from shipments);
