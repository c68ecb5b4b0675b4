-- provenance_stock: marks the stock observations of the registered batch `manual_batch` (sku,
-- warehouse_id, observed_at, row_key) that are not stored yet as written by upload $upload_id.
-- Run before the rows are written, in the same transaction.
insert into manual_rows (target, row_key, upload_id)
select 'stock_observations', b.row_key, $upload_id
from manual_batch as b
where not exists (
    select 1 from stock_observations as s
    where s.sku = b.sku and s.warehouse_id = b.warehouse_id and s.observed_at = b.observed_at
)
on conflict do nothing
