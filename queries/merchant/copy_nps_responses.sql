-- Merchant scope: the NPS answers of the merchant's shop; an answer naming another shop's order is
-- left out even if its merchant_id says otherwise.
insert into nps_responses by name
select * from src.nps_responses
where merchant_id = $merchant
  and (order_id is null
       or order_id not in (select order_id from src.orders where merchant_id is distinct from $merchant));
