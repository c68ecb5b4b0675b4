-- 011_inventory_quantities: every inventory state Shopify's GraphQL Admin API reports for a level,
-- not only `available` (which stays in stock_observations, the table every KPI reads).
-- stock_quantities: one row per SKU × warehouse × observation, the same key as stock_observations
--   (history, append-only, written in the same run by the shopify_graphql connector; the legacy
--   REST connector sees only `available` and writes none). on_hand = available + committed +
--   reserved (+ damaged, safety_stock, quality_control, which Tower does not read); incoming is
--   not at the warehouse yet and is not part of on_hand.
create table if not exists stock_quantities (
    sku           text,                      -- the SKU counted
    warehouse_id  text,                      -- the warehouse holding it
    observed_at   timestamptz,               -- Shopify inventory level updatedAt (as in stock_observations)
    available     integer,                   -- units available to sell (Shopify quantity available)
    on_hand       integer,                   -- units physically at the warehouse (Shopify quantity on_hand)
    committed     integer,                   -- units on placed, unfulfilled orders (Shopify quantity committed)
    incoming      integer,                   -- units on their way to the warehouse, not yet on hand (Shopify quantity incoming)
    reserved      integer,                   -- units set aside, e.g. for draft orders (Shopify quantity reserved)
    primary key (sku, warehouse_id, observed_at)
);
