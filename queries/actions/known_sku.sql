-- Whether a SKU is in the catalogue.
select count(*) > 0 from skus where sku = $id
