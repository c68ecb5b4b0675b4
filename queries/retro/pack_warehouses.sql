-- pack_warehouses: every warehouse (kind, market, place), so the pack explains its own ids.
-- Reference data: not cut to the window or the filters.
-- grain: one row per warehouse. returns: the columns of `warehouses`
select *
from warehouses
order by warehouse_id
