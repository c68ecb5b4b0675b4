-- Whether a shop (Shopify merchant) is known.
select count(*) > 0 from merchants where merchant_id = $id
