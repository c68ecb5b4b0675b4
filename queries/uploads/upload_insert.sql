-- upload_insert: records one uploaded sheet and its outcome; returns its upload_id.
insert into uploads (kind, file_name, sha256, rows, rows_written, uploaded_by, uploaded_by_name,
                     uploaded_at, status, run_id, errors)
values ($kind, $file_name, $sha256, $rows, $rows_written, $uploaded_by, $uploaded_by_name,
        $uploaded_at, $status, $run_id, $errors::json)
returning upload_id
