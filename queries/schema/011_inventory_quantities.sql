-- 011_inventory_quantities: every inventory state Shopify's GraphQL Admin API reports for a level,
-- not only `available`. stock_observations keeps one row per SKU × warehouse × observation (and
-- `available` stays the column every KPI reads); the other states ride along in the same row.
-- They are NULL for rows from the legacy REST connector, which sees only `available`.
-- on_hand = available + committed + reserved (+ damaged, safety_stock, quality_control, which
-- Tower does not read); `incoming` is not at the location yet and is not part of on_hand.
alter table stock_observations add column if not exists on_hand integer;    -- units physically at the warehouse at observed_at (Shopify quantity on_hand); NULL from REST
alter table stock_observations add column if not exists committed integer;  -- units on placed, unfulfilled orders (Shopify quantity committed); NULL from REST
alter table stock_observations add column if not exists incoming integer;   -- units on their way to the warehouse, not yet on hand (Shopify quantity incoming); NULL from REST
alter table stock_observations add column if not exists reserved integer;   -- units set aside, e.g. for draft orders (Shopify quantity reserved); NULL from REST
