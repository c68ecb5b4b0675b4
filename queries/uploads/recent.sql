-- recent: the latest uploaded sheets, newest first, at most $limit rows: kind, file, who, when
-- (uploaded_at, TIMESTAMPTZ UTC), rows read and written, status and how many rows were invalid.
-- Grain: one row per upload.
select
    upload_id,
    kind,
    file_name,
    uploaded_by_name,
    uploaded_at,
    rows,
    rows_written,
    status,
    coalesce(json_array_length(errors), 0) as invalid_rows
from uploads
order by upload_id desc
limit $limit
