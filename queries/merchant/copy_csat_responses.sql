-- Merchant scope: the CSAT answers of the merchant's shop (same rule as copy_nps_responses).
insert into csat_responses by name
select * from src.csat_responses
where merchant_id = $merchant
  and (order_id is null
       or order_id not in (select order_id from src.orders where merchant_id is distinct from $merchant));
