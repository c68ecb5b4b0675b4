-- known_skus: every SKU code of the catalogue, to check an uploaded sheet's rows against.
select sku from skus where sku is not null order by sku
