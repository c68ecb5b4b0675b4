-- warehouse_locations: how Shopify locations map to Tower warehouses (from planning or earlier syncs).
-- Returns one row per warehouse: warehouse_id (text), location_id (bigint, may be null), name (text).
select warehouse_id, location_id, name
from warehouses
