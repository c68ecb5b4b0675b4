-- Merchant scope: where the merchant's orders ship from (name and place only; no stock is copied).
insert into warehouses by name
select * from src.warehouses
where warehouse_id in (select warehouse_id from orders union select warehouse_id from shipments);
