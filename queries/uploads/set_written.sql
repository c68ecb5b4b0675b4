-- set_written: how many data rows upload $upload_id inserted or changed (known once they are written).
update uploads set rows_written = $rows_written where upload_id = $upload_id
