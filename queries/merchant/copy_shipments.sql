-- Merchant scope: the parcels carrying the merchant's orders (outbound only; inbound containers
-- from suppliers carry stock for every merchant and stay platform data).
insert into shipments by name
select * from src.shipments
where direction = 'outbound' and order_id in (select order_id from orders);
