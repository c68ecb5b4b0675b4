-- pack_merchants: every merchant (shop), so the pack explains its own ids.
-- Reference data: not cut to the window or the filters.
-- grain: one row per merchant. returns: the columns of `merchants`
select *
from merchants
order by merchant_id
