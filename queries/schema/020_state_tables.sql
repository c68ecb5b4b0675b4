-- 020_state_tables: current-state tables, the newest row of each history kept up to date in the
-- writer's transaction (connectors/state_tables.py, a derived-table maintainer), so "now" reads one
-- row per entity instead of a window over the whole history.
--
-- Raw history stays the truth: each table equals a recomputation from its history at all times
-- (tests/test_state_tables.py), and `connectors.derived.rebuild` recomputes them. "As of" readers
-- (the *_latest_before macros in queries/kpi/_facts.sql) take an entity's row from here when it is
-- older than the moment asked about — then it is also the newest row before that moment — and fall
-- back to the history rows only for the entities that have a newer row, so a live read never scans
-- the history and a past moment still replays exactly what was known then.
-- Newest wins by the history's own order; ties are broken by the rest of the key, so the row kept
-- never depends on the order the rows arrived in.

-- stock_latest: one row per SKU × warehouse: its newest stock observation (stock_current reads it).
create table if not exists stock_latest (
    sku           text,           -- the SKU counted (stock_observations.sku)
    warehouse_id  text,           -- the warehouse holding it (stock_observations.warehouse_id)
    observed_at   timestamptz,    -- time of the newest observation of this pair (UTC)
    available     integer,        -- units available to sell at observed_at
    primary key (sku, warehouse_id)
);

-- po_progress_latest: one row per purchase order: its newest progress report (po_current reads it).
create table if not exists po_progress_latest (
    po_id              text primary key,  -- the purchase order reported on (po_progress.po_id)
    observed_at        timestamptz,       -- supplier's update time of the newest progress report
    quantity_produced  integer,           -- units produced so far, per that report
    quantity_qc_passed integer,           -- units that passed quality control so far, per that report
    quantity_shipped   integer,           -- units handed to the carrier so far, per that report
    status             text,              -- PO status in that report (as purchase_orders.status)
    source             text               -- supplier_portal | supplier_csv
);

-- tracking_latest: one row per shipment with checkpoints: its newest checkpoint.
create table if not exists tracking_latest (
    shipment_id     text primary key,  -- the shipment (tracking_events.shipment_id)
    checkpoint_time timestamptz,       -- time of its newest checkpoint (UTC)
    created_at      timestamptz,       -- when AfterShip recorded that checkpoint (tie-break: newest first)
    tag             text,              -- AfterShip tag at that checkpoint (InTransit, Delivered …)
    message         text               -- carrier's message at that checkpoint (last tie-break)
);

insert or replace into stock_latest
select sku, warehouse_id, observed_at, available
from stock_observations
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1;

insert or replace into po_progress_latest
select po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source
from po_progress
qualify row_number() over (partition by po_id order by observed_at desc) = 1;

insert or replace into tracking_latest
select shipment_id, checkpoint_time, created_at, tag, message
from tracking_events
qualify row_number() over (
    partition by shipment_id order by checkpoint_time desc, created_at desc, tag, message
) = 1;

-- The current-state views keep their names and columns; they now read the maintained tables.
-- stock_current: the newest stock observation per SKU × warehouse (units available now).
create or replace view stock_current as
select sku, warehouse_id, observed_at, available
from stock_latest;

-- po_current: each purchase order with its newest progress report.
-- po_current.progress_at: time of the newest progress report (po_progress.observed_at); NULL if none
create or replace view po_current as
select po.*, p.observed_at as progress_at, p.quantity_produced, p.quantity_qc_passed, p.quantity_shipped
from purchase_orders po
left join po_progress_latest p using (po_id);
