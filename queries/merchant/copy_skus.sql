-- Merchant scope: the catalogue rows of the SKUs the merchant sold or had returned, without the
-- platform's landed cost and Shopify inventory item (the platform's business, not the merchant's).
insert into skus by name
select * replace (null::decimal(12, 2) as unit_cost, null::bigint as inventory_item_id)
from src.skus
where sku in (select sku from order_lines union select sku from returns);
