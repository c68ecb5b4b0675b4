-- latest_loaded: per kind of sheet, the newest upload that loaded data: who and when, so the
-- Sources page can say the data there is manual. Grain: one row per kind.
select kind, upload_id, file_name, uploaded_by_name, uploaded_at, rows_written
from uploads
where status = 'loaded'
qualify row_number() over (partition by kind order by upload_id desc) = 1
order by kind
