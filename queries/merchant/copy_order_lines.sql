-- Merchant scope: the lines of the merchant's orders (already copied into this database).
insert into order_lines by name
select * from src.order_lines where order_id in (select order_id from orders);
