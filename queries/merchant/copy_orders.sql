-- Merchant scope: the orders placed in the merchant's shop. Every other copy_* keys off these rows.
insert into orders by name
select * from src.orders where merchant_id = $merchant;
