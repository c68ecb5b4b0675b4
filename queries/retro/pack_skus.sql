-- pack_skus: the SKU catalogue (names, classes, costs), so the pack explains its own ids.
-- Reference data: not cut to the window or the filters.
-- grain: one row per sku. returns: the columns of `skus`
select *
from skus
order by sku
