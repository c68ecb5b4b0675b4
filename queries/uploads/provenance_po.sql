-- provenance_po: marks the progress reports of the registered batch `manual_batch` (po_id,
-- observed_at, row_key) that are not stored yet as written by upload $upload_id.
-- Run before the rows are written, in the same transaction.
insert into manual_rows (target, row_key, upload_id)
select 'po_progress', b.row_key, $upload_id
from manual_batch as b
where not exists (
    select 1 from po_progress as p
    where p.po_id = b.po_id and p.observed_at = b.observed_at
)
on conflict do nothing
