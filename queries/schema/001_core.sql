-- 001_core: Tower's data model (DESIGN §3).
-- All timestamps are TIMESTAMPTZ in UTC. Facts with history are append-only and deduplicated on
-- their natural key; "current" views pick the newest observation. Column comments feed the
-- schema browser, so every column says what it means.

-- ─── dimensions ────────────────────────────────────────────────────────────────────────────────
create table if not exists merchants (
    merchant_id   text primary key,          -- shop handle (one Shopify shop per merchant)
    name          text,
    kind          text,                      -- own_store | s2b2c_merchant | marketplace
    updated_at    timestamptz
);

create table if not exists suppliers (
    supplier_id      text primary key,       -- supplier code in the supplier portal
    name             text,
    tier             text,                   -- primary | backup | emergency
    country          text,                   -- ISO 3166-1 alpha-2
    lat              double,
    lon              double,
    lead_time_days   double,                 -- quoted production + handover lead time
    capacity_per_day integer,                -- units the supplier can make per day
    updated_at       timestamptz
);

create table if not exists skus (
    sku                text primary key,
    name               text,
    sku_class          text,                 -- core (45 d cover) | potential (30) | long_tail (15)
    unit_cost          decimal(12, 2),
    unit_price         decimal(12, 2),
    inventory_item_id  bigint,               -- Shopify inventory item behind the variant
    updated_at         timestamptz
);

create table if not exists warehouses (
    warehouse_id  text primary key,
    location_id   bigint,                    -- Shopify location id
    name          text,
    kind          text,                      -- domestic | overseas | 3pl
    market        text,                      -- market the warehouse serves (ISO country)
    country       text,
    city          text,
    lat           double,
    lon           double,
    updated_at    timestamptz
);

create table if not exists nodes (
    node_id     text primary key,            -- UN/LOCODE for ports and airports, else a hub code
    name        text,
    kind        text,                        -- port | airport | hub
    country     text,
    lat         double,
    lon         double,
    status      text,                        -- normal | congested | closed
    updated_at  timestamptz
);

-- ─── plans ─────────────────────────────────────────────────────────────────────────────────────
create table if not exists stock_policies (
    sku           text,
    warehouse_id  text,
    safety_qty    integer,                   -- planned buffer stock
    warning_qty   integer,                   -- below this: yellow
    limit_qty     integer,                   -- below this: red (hard floor)
    updated_at    timestamptz,
    primary key (sku, warehouse_id)
);

create table if not exists forecasts (
    sku           text,
    market        text,
    period_start  timestamptz,               -- start of the forecast hour
    units         double,                    -- forecast units sold in that hour
    updated_at    timestamptz,
    primary key (sku, market, period_start)
);

create table if not exists events (
    event_id    text primary key,
    name        text,
    starts_at   timestamptz,
    ends_at     timestamptz,
    kind        text,                        -- promotion | disruption
    source      text,                        -- planning | ui | config
    updated_at  timestamptz
);

-- ─── supply: purchase orders and their production progress ─────────────────────────────────────
create table if not exists purchase_orders (
    po_id                text primary key,
    supplier_id          text,
    sku                  text,
    warehouse_id         text,               -- destination warehouse
    quantity_ordered     integer,
    unit_cost            decimal(12, 2),
    ordered_at           timestamptz,
    promised_ship_date   timestamptz,
    status               text,               -- open | in_production | shipped | closed | cancelled
    updated_at           timestamptz
);

create table if not exists po_progress (
    po_id             text,
    observed_at       timestamptz,           -- supplier's update time for this progress report
    quantity_produced integer,
    quantity_qc_passed integer,
    quantity_shipped  integer,
    status            text,
    source            text,                  -- supplier_portal | supplier_csv
    primary key (po_id, observed_at)
);

-- ─── transport: shipments and their checkpoints ────────────────────────────────────────────────
create table if not exists shipments (
    shipment_id            text primary key, -- AfterShip tracking id
    tracking_number        text,
    carrier                text,             -- courier slug
    mode                   text,             -- sea | air | express | truck
    direction              text,             -- inbound (to a warehouse) | outbound (to a customer)
    order_id               text,             -- outbound: the customer order
    po_id                  text,             -- inbound: the purchase order
    warehouse_id           text,             -- inbound destination or outbound origin warehouse
    origin_country         text,
    destination_country    text,
    destination_city       text,
    tag                    text,             -- AfterShip tag (Pending … Delivered, Exception)
    subtag                 text,
    eta                    timestamptz,      -- latest carrier/AfterShip estimate
    promised_delivery_at   timestamptz,
    shipped_at             timestamptz,
    delivered_at           timestamptz,
    last_checkpoint_at     timestamptz,
    last_lat               double,
    last_lon               double,
    created_at             timestamptz,
    updated_at             timestamptz
);

create table if not exists tracking_events (
    shipment_id        text,
    checkpoint_time    timestamptz,          -- carrier local time converted to UTC (see README)
    tag                text,
    subtag             text,
    message            text,
    location           text,
    city               text,
    country            text,
    lat                double,
    lon                double,
    raw_checkpoint_time text,                -- exactly as the carrier sent it
    created_at         timestamptz,          -- when AfterShip recorded it (UTC)
    primary key (shipment_id, checkpoint_time, tag, message)
);

-- ─── stock ────────────────────────────────────────────────────────────────────────────────────
create table if not exists stock_observations (
    sku           text,
    warehouse_id  text,
    observed_at   timestamptz,               -- Shopify inventory level updated_at
    available     integer,
    primary key (sku, warehouse_id, observed_at)
);

-- ─── demand and customers ─────────────────────────────────────────────────────────────────────
create table if not exists orders (
    order_id              text primary key,  -- Shopify order id
    order_number          text,
    merchant_id           text,
    channel               text,              -- web | tiktok | marketplace | pos …
    market                text,              -- destination country (ISO)
    warehouse_id          text,              -- fulfilling warehouse
    created_at            timestamptz,
    promised_delivery_at  timestamptz,
    fulfilled_at          timestamptz,
    cancelled_at          timestamptz,
    total_price           decimal(12, 2),
    shipping_cost         decimal(12, 2),
    currency              text,
    updated_at            timestamptz
);

create table if not exists order_lines (
    order_id    text,
    line_id     text,
    sku         text,
    quantity    integer,
    price       decimal(12, 2),
    primary key (order_id, line_id)
);

create table if not exists returns (
    return_id     text,                      -- RMA number
    sku           text,
    order_id      text,
    quantity      integer,
    reason        text,                      -- wrong_item | damaged | not_as_described | changed_mind | late …
    status        text,                      -- submitted | approved | done | rejected | expired
    created_at    timestamptz,
    refunded_at   timestamptz,
    updated_at    timestamptz,
    primary key (return_id, sku)
);

create table if not exists nps_responses (
    response_id  text primary key,
    order_id     text,
    merchant_id  text,
    market       text,
    score        integer,                    -- 0–10
    comment      text,
    created_at   timestamptz,
    updated_at   timestamptz
);

-- ─── operations ───────────────────────────────────────────────────────────────────────────────
create table if not exists sync_state (
    source      text,                        -- configured source name
    resource    text,                        -- e.g. trackings, orders@green-living
    cursor      text,                        -- opaque incremental cursor (usually an ISO timestamp)
    updated_at  timestamptz,
    primary key (source, resource)
);

create sequence if not exists sync_run_id;

create table if not exists sync_runs (
    run_id          bigint primary key default nextval('sync_run_id'),
    source          text,
    started_at      timestamptz,
    finished_at     timestamptz,
    status          text,                    -- running | ok | partial (some records rejected) | failed
    rows_fetched    integer,
    rows_written    integer,
    rows_rejected   integer,
    newest_record_at timestamptz,            -- newest source timestamp seen in this run
    error           text                     -- first error, short and secret-free
);

-- ─── current-state views ──────────────────────────────────────────────────────────────────────
create or replace view stock_current as
select sku, warehouse_id, observed_at, available
from stock_observations
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1;

create or replace view po_current as
select po.*, p.observed_at as progress_at, p.quantity_produced, p.quantity_qc_passed, p.quantity_shipped
from purchase_orders po
left join (
    select * from po_progress
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
) p using (po_id);

-- Orders with the outbound shipment that carries them (delivery time, carrier, status).
create or replace view orders_with_delivery as
select o.*, s.shipment_id, s.carrier, s.tag as shipment_tag, s.shipped_at, s.delivered_at, s.eta
from orders o
left join (
    select * from shipments
    where direction = 'outbound' and order_id is not null
    qualify row_number() over (partition by order_id order by updated_at desc) = 1
) s using (order_id);
