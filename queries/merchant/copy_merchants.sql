-- Merchant scope: the merchant's own row of merchants (other shops are not named to it).
insert into merchants by name
select * from src.merchants where merchant_id = $merchant;
