-- pack_suppliers: every supplier (tier, country, lead time, capacity), so the pack explains its
-- own ids.
-- Reference data: not cut to the window or the filters.
-- grain: one row per supplier. returns: the columns of `suppliers`
select *
from suppliers
order by supplier_id
