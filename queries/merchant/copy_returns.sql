-- Merchant scope: the returns of the merchant's orders.
insert into returns by name
select * from src.returns where order_id in (select order_id from orders);
