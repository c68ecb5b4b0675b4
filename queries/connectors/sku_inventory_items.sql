-- sku_inventory_items: how Shopify inventory items map to Tower SKUs.
-- Returns one row per SKU with a known inventory item: inventory_item_id (bigint), sku (text).
select inventory_item_id, sku
from skus
where inventory_item_id is not null
