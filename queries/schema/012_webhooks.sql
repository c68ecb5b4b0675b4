-- 012_webhooks: signed webhook deliveries loaded by the app (issue 11, item 2).

-- webhook_events: one row per verified webhook delivery the loader took from the spool (idempotent on the delivery id).
create table if not exists webhook_events (
    source        text not null,            -- the configured source it was posted to (e.g. shopify, aftership, returns)
    delivery_id   text not null,            -- the vendor's delivery id: X-Shopify-Webhook-Id, AfterShip event_id, Returns id
    topic         text,                     -- what happened: X-Shopify-Topic, AfterShip event (tracking_update …), Returns event
    received_at   timestamptz not null,     -- real UTC time the receiver stored it (before answering 2xx)
    loaded_at     timestamptz not null,     -- real UTC time the loader applied it to the tables
    status        text not null,            -- loaded | skipped (valid but nothing to apply, e.g. unmapped) | invalid (signed, but the payload does not validate) | failed
    error         text,                     -- why it was skipped, invalid or failed; NULL when loaded
    rows_mapped   integer not null default 0, -- rows the event mapped to in the data tables (upserted: an older version than the stored row changes nothing)
    deliveries    integer not null default 1, -- deliveries of it seen by the loader (redeliveries after the first load are counted, never applied again)
    primary key (source, delivery_id)
);

-- webhook_rejections: per source, webhooks refused for a wrong or missing signature (nothing of them is stored).
create table if not exists webhook_rejections (
    source            text primary key,     -- the configured source the request was posted to
    rejected          bigint not null,      -- requests refused with 401 since the database was created
    last_rejected_at  timestamptz,          -- real UTC time of the latest refusal
    last_reason       text                  -- why the latest one was refused (missing or wrong signature)
);
