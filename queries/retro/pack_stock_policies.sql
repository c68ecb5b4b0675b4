-- pack_stock_policies: the stock watermarks (safety / warning / limit) per sku × warehouse, as
-- stored now (policies carry no history).
-- Reference data: not cut to the window or the filters.
-- grain: one row per sku × warehouse. returns: the columns of `stock_policies`
select *
from stock_policies
order by sku, warehouse_id
