-- 001_core: Tower's data model (DESIGN §3).
-- All timestamps are TIMESTAMPTZ in UTC. Facts with history are append-only and deduplicated on
-- their natural key; "current" views pick the newest observation. Column comments feed the
-- schema browser, so every column says what it means.

-- ─── dimensions ────────────────────────────────────────────────────────────────────────────────
-- merchants: one row per shop selling through Tower's supply chain (Shopify).
create table if not exists merchants (
    merchant_id   text primary key,          -- shop handle (one Shopify shop per merchant)
    name          text,                      -- shop display name
    kind          text,                      -- own_store | s2b2c_merchant | marketplace
    updated_at    timestamptz                -- when the source last changed this row (UTC)
);

-- suppliers: factories that make the SKUs, with their tier, place and capacity (supplier portal).
create table if not exists suppliers (
    supplier_id      text primary key,       -- supplier code in the supplier portal
    name             text,                   -- supplier's company name
    tier             text,                   -- primary | backup | emergency
    country          text,                   -- ISO 3166-1 alpha-2
    lat              double,                 -- latitude of the factory (WGS 84)
    lon              double,                 -- longitude of the factory (WGS 84)
    lead_time_days   double,                 -- quoted production + handover lead time
    capacity_per_day integer,                -- units the supplier can make per day
    updated_at       timestamptz             -- when the source last changed this row (UTC)
);

-- skus: the product catalogue, one row per SKU (planning sheet).
create table if not exists skus (
    sku                text primary key,     -- stock keeping unit code (the Shopify variant SKU)
    name               text,                 -- product name
    sku_class          text,                 -- core (45 d cover) | potential (30) | long_tail (15)
    unit_cost          decimal(12, 2),       -- landed cost of one unit (in skus.currency)
    unit_price         decimal(12, 2),       -- list price of one unit (in skus.currency)
    inventory_item_id  bigint,               -- Shopify inventory item behind the variant
    updated_at         timestamptz           -- when the source last changed this row (UTC)
);

-- warehouses: where stock is held and orders ship from (planning sheet; Shopify location ids).
create table if not exists warehouses (
    warehouse_id  text primary key,          -- warehouse code from the planning sheet
    location_id   bigint,                    -- Shopify location id
    name          text,                      -- warehouse name
    kind          text,                      -- domestic | overseas | 3pl
    market        text,                      -- market the warehouse serves (ISO country)
    country       text,                      -- country the warehouse is in (ISO)
    city          text,                      -- city the warehouse is in
    lat           double,                    -- latitude (WGS 84)
    lon           double,                    -- longitude (WGS 84)
    updated_at    timestamptz                -- when the source last changed this row (UTC)
);

-- nodes: ports, airports and hubs shipments pass through, with their current status.
create table if not exists nodes (
    node_id     text primary key,            -- UN/LOCODE for ports and airports, else a hub code
    name        text,                        -- port, airport or hub name
    kind        text,                        -- port | airport | hub
    country     text,                        -- country of the node (ISO)
    lat         double,                      -- latitude (WGS 84)
    lon         double,                      -- longitude (WGS 84)
    status      text,                        -- normal | congested | closed
    updated_at  timestamptz                  -- when the source last changed this row (UTC)
);

-- ─── plans ─────────────────────────────────────────────────────────────────────────────────────
-- stock_policies: the planned stock watermarks per SKU × warehouse (planning sheet).
create table if not exists stock_policies (
    sku           text,                      -- the SKU the policy is for
    warehouse_id  text,                      -- the warehouse the policy is for
    safety_qty    integer,                   -- planned buffer stock
    warning_qty   integer,                   -- below this: yellow
    limit_qty     integer,                   -- below this: red (hard floor)
    updated_at    timestamptz,               -- when the source last changed this row (UTC)
    primary key (sku, warehouse_id)
);

-- forecasts: planned units sold per SKU × market × hour (planning sheet).
create table if not exists forecasts (
    sku           text,                      -- the SKU forecast
    market        text,                      -- market (ISO country) the units are sold in
    period_start  timestamptz,               -- start of the forecast hour
    units         double,                    -- forecast units sold in that hour
    updated_at    timestamptz,               -- when the source last changed this row (UTC)
    primary key (sku, market, period_start)
);

-- events: promotions and disruptions with their time windows (planning sheet, UI, config).
create table if not exists events (
    event_id    text primary key,            -- event code, e.g. EV-MEMBER-DAY
    name        text,                        -- event name shown in the app
    starts_at   timestamptz,                 -- start of the event (UTC)
    ends_at     timestamptz,                 -- end of the event (UTC); NULL = open-ended
    kind        text,                        -- promotion | disruption
    source      text,                        -- planning | ui | config
    updated_at  timestamptz                  -- when the source last changed this row (UTC)
);

-- ─── supply: purchase orders and their production progress ─────────────────────────────────────
-- purchase_orders: one row per PO to a supplier, its current state (supplier portal / CSV).
create table if not exists purchase_orders (
    po_id                text primary key,   -- purchase order number (supplier portal)
    supplier_id          text,               -- the supplier making the goods
    sku                  text,               -- the SKU ordered
    warehouse_id         text,               -- destination warehouse
    quantity_ordered     integer,            -- units ordered
    unit_cost            decimal(12, 2),     -- agreed price per unit (in purchase_orders.currency)
    ordered_at           timestamptz,        -- when the PO was placed (UTC)
    promised_ship_date   timestamptz,        -- day the supplier promised to hand the goods over
    status               text,               -- open | in_production | shipped | closed | cancelled
    updated_at           timestamptz         -- when the source last changed this row (UTC)
);

-- po_progress: every production progress report of a PO, as the supplier sent it (history).
create table if not exists po_progress (
    po_id             text,                  -- the purchase order reported on
    observed_at       timestamptz,           -- supplier's update time for this progress report
    quantity_produced integer,               -- units produced so far (cumulative)
    quantity_qc_passed integer,              -- units that passed quality control so far (cumulative)
    quantity_shipped  integer,               -- units handed to the carrier so far (cumulative)
    status            text,                  -- PO status in this report (as purchase_orders.status)
    source            text,                  -- supplier_portal | supplier_csv
    primary key (po_id, observed_at)
);

-- ─── transport: shipments and their checkpoints ────────────────────────────────────────────────
-- shipments: one row per tracked shipment, inbound from suppliers or outbound to customers (AfterShip).
create table if not exists shipments (
    shipment_id            text primary key, -- AfterShip tracking id
    tracking_number        text,             -- carrier's tracking number
    carrier                text,             -- courier slug
    mode                   text,             -- sea | air | express | truck
    direction              text,             -- inbound (to a warehouse) | outbound (to a customer)
    order_id               text,             -- outbound: the customer order
    po_id                  text,             -- inbound: the purchase order
    warehouse_id           text,             -- inbound destination or outbound origin warehouse
    origin_country         text,             -- country the shipment left from (ISO)
    destination_country    text,             -- country the shipment goes to (ISO)
    destination_city       text,             -- city the shipment goes to
    tag                    text,             -- AfterShip tag (Pending … Delivered, Exception)
    subtag                 text,             -- AfterShip subtag: the reason within the tag, e.g. Exception_004
    eta                    timestamptz,      -- latest carrier/AfterShip estimate
    promised_delivery_at   timestamptz,      -- arrival promised to the customer (outbound) or planned
    shipped_at             timestamptz,      -- when the carrier picked the shipment up (UTC)
    delivered_at           timestamptz,      -- when it was delivered (UTC); NULL while under way
    last_checkpoint_at     timestamptz,      -- time of the newest checkpoint (UTC)
    last_lat               double,           -- latitude of the newest checkpoint with a position
    last_lon               double,           -- longitude of the newest checkpoint with a position
    created_at             timestamptz,      -- when the tracking was created in AfterShip (UTC)
    updated_at             timestamptz       -- when the source last changed this row (UTC)
);

-- tracking_events: every carrier checkpoint of every shipment (history).
create table if not exists tracking_events (
    shipment_id        text,                 -- the shipment this checkpoint belongs to
    checkpoint_time    timestamptz,          -- carrier local time converted to UTC (see README)
    tag                text,                 -- AfterShip tag at this checkpoint (InTransit, Delivered …)
    subtag             text,                 -- AfterShip subtag at this checkpoint, e.g. InTransit_007
    message            text,                 -- carrier's checkpoint message, e.g. Departure Scan
    location           text,                 -- carrier's location text
    city               text,                 -- city of the checkpoint
    country            text,                 -- country of the checkpoint (ISO)
    lat                double,               -- latitude of the checkpoint (NULL when the carrier sent none)
    lon                double,               -- longitude of the checkpoint (NULL when the carrier sent none)
    raw_checkpoint_time text,                -- exactly as the carrier sent it
    created_at         timestamptz,          -- when AfterShip recorded it (UTC)
    primary key (shipment_id, checkpoint_time, tag, message)
);

-- ─── stock ────────────────────────────────────────────────────────────────────────────────────
-- stock_observations: units available per SKU × warehouse at each observation (history, Shopify).
create table if not exists stock_observations (
    sku           text,                      -- the SKU counted
    warehouse_id  text,                      -- the warehouse holding it
    observed_at   timestamptz,               -- Shopify inventory level updated_at
    available     integer,                   -- units available to sell at observed_at
    primary key (sku, warehouse_id, observed_at)
);

-- ─── demand and customers ─────────────────────────────────────────────────────────────────────
-- orders: one row per customer order (Shopify), with its promise, fulfilment and money.
create table if not exists orders (
    order_id              text primary key,  -- Shopify order id
    order_number          text,              -- order name shown to the customer, e.g. #1001
    merchant_id           text,              -- the shop the order was placed in
    channel               text,              -- web | tiktok | marketplace | pos …
    market                text,              -- destination country (ISO)
    warehouse_id          text,              -- fulfilling warehouse
    created_at            timestamptz,       -- when the customer placed the order (UTC)
    promised_delivery_at  timestamptz,       -- delivery promised at checkout (UTC)
    fulfilled_at          timestamptz,       -- when the first fulfillment was created (handed to the carrier)
    cancelled_at          timestamptz,       -- when the order was cancelled; NULL if it was not
    total_price           decimal(12, 2),    -- order total after refunds and cancellations (in orders.currency)
    shipping_cost         decimal(12, 2),    -- what shipping the order cost the seller (in orders.currency)
    currency              text,              -- ISO 4217 currency of the order's money columns (the shop's currency)
    updated_at            timestamptz        -- when the source last changed this row (UTC)
);

-- order_lines: the SKUs and quantities of each order.
create table if not exists order_lines (
    order_id    text,                        -- the order this line belongs to
    line_id     text,                        -- Shopify line item id
    sku         text,                        -- the SKU sold
    quantity    integer,                     -- units ordered on this line
    price       decimal(12, 2),              -- unit price on this line (in the order's currency)
    primary key (order_id, line_id)
);

-- returns: one row per returned SKU of a return request (AfterShip Returns).
create table if not exists returns (
    return_id     text,                      -- RMA number
    sku           text,                      -- the SKU returned
    order_id      text,                      -- the order the items came from
    quantity      integer,                   -- units returned
    reason        text,                      -- wrong_item | damaged | not_as_described | changed_mind | late …
    status        text,                      -- submitted | approved | done | rejected | expired
    created_at    timestamptz,               -- when the return was requested (UTC)
    refunded_at   timestamptz,               -- when the customer was refunded; NULL until then
    updated_at    timestamptz,               -- when the source last changed this row (UTC)
    primary key (return_id, sku)
);

-- nps_responses: one row per answer to the post-delivery NPS survey (Delighted, 0–10).
create table if not exists nps_responses (
    response_id  text primary key,           -- Delighted survey response id
    order_id     text,                       -- the delivered order the survey was about (Shopify order id)
    merchant_id  text,                       -- shop handle of the order
    market       text,                       -- the customer's country (ISO 3166-1 alpha-2)
    score        integer,                    -- 0–10
    comment      text,                       -- free-text answer, NULL when left empty
    created_at   timestamptz,                -- when the customer answered (UTC)
    updated_at   timestamptz                 -- last change of the answer in Delighted (UTC)
);

-- ─── operations ───────────────────────────────────────────────────────────────────────────────
-- schema_migrations: the migrations applied to this database (made by tower/db.py, not a migration).
-- schema_migrations.version: migration file name applied, e.g. 001_core
-- schema_migrations.applied_at: when it was applied (UTC)

-- sync_state: each source's incremental cursors, moved in the same transaction as its data.
create table if not exists sync_state (
    source      text,                        -- configured source name
    resource    text,                        -- e.g. trackings, orders@green-living
    cursor      text,                        -- opaque incremental cursor (usually an ISO timestamp)
    updated_at  timestamptz,                 -- when the cursor last moved (UTC)
    primary key (source, resource)
);

create sequence if not exists sync_run_id;

-- sync_runs: one row per connector run: when, outcome, counts and the first error.
create table if not exists sync_runs (
    run_id          bigint primary key default nextval('sync_run_id'),  -- run number (increasing)
    source          text,                    -- configured source name
    started_at      timestamptz,             -- when the run started (clock time, UTC)
    finished_at     timestamptz,             -- when it finished; NULL while running
    status          text,                    -- running | ok | partial (some records rejected) | failed
    rows_fetched    integer,                 -- records read from the source
    rows_written    integer,                 -- rows inserted or changed in the database
    rows_rejected   integer,                 -- records that failed validation (counted, not loaded)
    newest_record_at timestamptz,            -- newest source timestamp seen in this run
    error           text                     -- first error, short and secret-free
);

-- ─── current-state views ──────────────────────────────────────────────────────────────────────
-- Their columns mean what they mean in the tables they read; the notes below cover the rest.

-- stock_current: the newest stock observation per SKU × warehouse (units available now).
create or replace view stock_current as
select sku, warehouse_id, observed_at, available
from stock_observations
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1;

-- po_current: each purchase order with its newest progress report.
-- po_current.progress_at: time of the newest progress report (po_progress.observed_at); NULL if none
create or replace view po_current as
select po.*, p.observed_at as progress_at, p.quantity_produced, p.quantity_qc_passed, p.quantity_shipped
from purchase_orders po
left join (
    select * from po_progress
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
) p using (po_id);

-- Orders with the outbound shipment that carries them (delivery time, carrier, status).
-- orders_with_delivery.shipment_tag: AfterShip tag of that shipment (shipments.tag)
create or replace view orders_with_delivery as
select o.*, s.shipment_id, s.carrier, s.tag as shipment_tag, s.shipped_at, s.delivered_at, s.eta
from orders o
left join (
    select * from shipments
    where direction = 'outbound' and order_id is not null
    qualify row_number() over (partition by order_id order by updated_at desc) = 1
) s using (order_id);
