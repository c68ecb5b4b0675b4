-- 014_manual_uploads: sheets an operator uploads when an API is down (issue 11, "digital black box").
-- The loaded rows go to the usual natural-key tables (stock_observations, purchase_orders,
-- po_progress), so every KPI reads them unchanged; manual_rows says which of those rows came from
-- a sheet and from which upload.

create sequence if not exists upload_id_seq;

-- uploads: one row per sheet uploaded on the Sources page: who, when, what file, and the outcome.
create table if not exists uploads (
    upload_id        bigint primary key default nextval('upload_id_seq'), -- upload number (increasing)
    kind             text not null,          -- stock (3PL stock sheet) | supplier (supplier progress sheet)
    file_name        text,                   -- the file name as uploaded
    sha256           text not null,          -- SHA-256 of the file's bytes (the same file twice loads once)
    rows             integer,                -- data rows read from the sheet
    rows_written     integer,                -- rows inserted or changed in the data tables
    uploaded_by      text not null,          -- audit actor id of the uploader (OIDC subject or "local")
    uploaded_by_name text,                   -- the uploader's name as shown on screen
    uploaded_at      timestamptz not null,   -- Tower's clock when the upload was processed (UTC)
    status           text not null,          -- loaded | rejected (an invalid row: nothing loaded) | duplicate (same file already loaded)
    run_id           bigint,                 -- the sync_runs row recording this upload
    errors           json                    -- row-level errors of a rejected sheet: [{row, column, error}]
);

-- manual_rows: provenance of data rows first written by an uploaded sheet (rows an API sent first stay the API's).
create table if not exists manual_rows (
    target     text,                         -- the data table: stock_observations | po_progress
    row_key    text,                         -- the row's natural key, its parts joined by '|' (timestamps ISO UTC)
    upload_id  bigint,                       -- the upload that wrote the row (uploads.upload_id)
    primary key (target, row_key)
);
