-- The reference dataset (bench/reference.py): a 30-day sandbox world (`tpl`, attached read-only)
-- multiplied into a large, still coherent, vendor-shaped world. Every template row family (an order
-- with its lines, outbound shipment, checkpoints, returns and survey answers; a PO with its progress
-- and inbound shipments) is copied `copies` times; copy k ≥ 1 suffixes every id with `~k`, moves
-- the family back in time by a deterministic 0–30 min, and sends it to one of `sku_copies` copies
-- of its SKUs, `wh_copies` copies of its warehouse and `merchant_copies` copies of its shop (chosen
-- by a hash of the family's root id and k, so every child follows its root). Plans scale with the
-- demand each copy receives, so rates (on-time, sales vs forecast, hours to stockout) stay those of
-- the sandbox while counts grow. Parameters come from the temp table `ref_plan` (one row).
-- Rows are inserted in time order (orders and their lines by placing, checkpoints as AfterShip
-- recorded them …), as a live store appends them sync after sync: in the copies' hash order every
-- row group held every day, and a statement about the last hours read the whole history (a batch of
-- checkpoints' stored twins: 90 ms a batch, 4 ms in time order).

create or replace temp macro ref_sfx(id, k) as
    case when k = 0 or id is null then id else id || '~' || k::text end;
create or replace temp macro ref_shift(root, k) as
    case when k = 0 then interval 0 second
         else to_seconds(-((hash(root || '~' || k::text) % 1800)::bigint)) end;
create or replace temp macro ref_pick(root, k, salt, n) as
    ((hash(root || salt) + k) % n)::bigint;

create or replace temp table ref_copies as
select n as k from range((select copies from ref_plan)) r(n);

-- ── dimensions ─────────────────────────────────────────────────────────────────────────────────
insert into suppliers by name select * from tpl.suppliers on conflict do nothing;
insert into nodes by name select * from tpl.nodes;
insert into events by name select * from tpl.events;
insert into fx_rates by name select * from tpl.fx_rates;
-- (new run ids from this database's own sequence: copied ids would leave it behind them, and the
--  app's next sync would collide with run 1)
insert into sync_runs by name select * exclude (run_id) from tpl.sync_runs order by run_id;
insert into sync_state by name select * from tpl.sync_state;

insert into skus by name
select t.* replace (ref_sfx(t.sku, s.n) as sku,
                    case when s.n = 0 then t.name else t.name || ' #' || s.n end as name,
                    t.inventory_item_id + s.n * 1000000000 as inventory_item_id)
from tpl.skus t, range((select sku_copies from ref_plan)) s(n);

insert into warehouses by name
select t.* replace (ref_sfx(t.warehouse_id, w.n) as warehouse_id,
                    case when w.n = 0 then t.name else t.name || ' #' || w.n end as name,
                    t.location_id + w.n * 1000000000 as location_id,
                    t.lat + 0.35 * w.n as lat, t.lon + 0.45 * w.n as lon)
from tpl.warehouses t, range((select wh_copies from ref_plan)) w(n);

insert into merchants by name
select t.* replace (ref_sfx(t.merchant_id, m.n) as merchant_id,
                    case when m.n = 0 then t.name else t.name || ' #' || m.n end as name)
from tpl.merchants t, range((select merchant_copies from ref_plan)) m(n);

-- ── plans: scaled by the share of demand each copy receives ────────────────────────────────────
insert into forecasts by name
select t.* replace (ref_sfx(t.sku, s.n) as sku,
                    t.units * (select copies from ref_plan) / (select sku_copies from ref_plan) as units)
from tpl.forecasts t, range((select sku_copies from ref_plan)) s(n);

insert into stock_policies by name
select t.* replace (ref_sfx(t.sku, s.n) as sku, ref_sfx(t.warehouse_id, w.n) as warehouse_id,
                    greatest(1, round(t.safety_qty * (select pair_share from ref_plan)))::integer as safety_qty,
                    greatest(1, round(t.warning_qty * (select pair_share from ref_plan)))::integer as warning_qty,
                    greatest(1, round(t.limit_qty * (select pair_share from ref_plan)))::integer as limit_qty)
from tpl.stock_policies t, range((select sku_copies from ref_plan)) s(n), range((select wh_copies from ref_plan)) w(n);

-- Stock: every SKU × warehouse pair reports `stock_points` levels over 30 days (a count whenever
-- the level moved, as Shopify's inventory_levels updated_at does), a saw-tooth of sales and
-- restocks ending at the template pair's last level scaled to the pair's share of demand.
insert into stock_observations by name
with latest as (
    select c.sku, c.warehouse_id, c.observed_at, c.available, p.warning_qty
    from tpl.stock_current c join tpl.stock_policies p using (sku, warehouse_id)
),
pairs as (
    select ref_sfx(l.sku, s.n) as sku, ref_sfx(l.warehouse_id, w.n) as warehouse_id,
           (select now_at from ref_plan) as last_at,
           round(l.available * (select pair_share from ref_plan)) as last_available,
           greatest(20, 3 * l.warning_qty * (select pair_share from ref_plan)) as cycle
    from latest l, range((select sku_copies from ref_plan)) s(n), range((select wh_copies from ref_plan)) w(n)
)
select sku, warehouse_id,
       last_at - to_seconds(i.n * (select stock_step_s from ref_plan)
                            + case when i.n = 0 then 60 else (hash(sku || warehouse_id || i.n::text) % 600)::bigint end)
           as observed_at,
       (last_available + (i.n * cycle / 24) % cycle)::integer as available
from pairs, range((select stock_points from ref_plan)) i(n)
-- in the order the syncs would have appended them, so a window's read skips old row groups
order by observed_at;

-- ── orders and what hangs off them ─────────────────────────────────────────────────────────────
create or replace temp table ref_order_copy as
select o.order_id as root, c.k,
       ref_pick(o.order_id, c.k, 'sku', (select sku_copies from ref_plan)) as sku_k,
       ref_pick(o.order_id, c.k, 'wh', (select wh_copies from ref_plan)) as wh_k,
       ref_pick(o.order_id, c.k, 'shop', (select merchant_copies from ref_plan)) as shop_k,
       ref_shift(o.order_id, c.k) as shift
from tpl.orders o, ref_copies c;

insert into orders by name
select o.* replace (ref_sfx(o.order_id, x.k) as order_id, ref_sfx(o.order_number, x.k) as order_number,
                    ref_sfx(o.merchant_id, x.shop_k) as merchant_id, ref_sfx(o.warehouse_id, x.wh_k) as warehouse_id,
                    o.created_at + x.shift as created_at, o.promised_delivery_at + x.shift as promised_delivery_at,
                    o.fulfilled_at + x.shift as fulfilled_at, o.cancelled_at + x.shift as cancelled_at,
                    o.updated_at + x.shift as updated_at)
from tpl.orders o join ref_order_copy x on x.root = o.order_id
order by o.created_at + x.shift;

insert into order_lines by name
select l.* replace (ref_sfx(l.order_id, x.k) as order_id, ref_sfx(l.line_id, x.k) as line_id,
                    ref_sfx(l.sku, x.sku_k) as sku)
from tpl.order_lines l join ref_order_copy x on x.root = l.order_id
join tpl.orders o on o.order_id = l.order_id
order by o.created_at + x.shift;

insert into returns by name
select r.* replace (ref_sfx(r.return_id, x.k) as return_id, ref_sfx(r.order_id, x.k) as order_id,
                    ref_sfx(r.sku, x.sku_k) as sku, r.created_at + x.shift as created_at,
                    r.refunded_at + x.shift as refunded_at, r.updated_at + x.shift as updated_at)
from tpl.returns r join ref_order_copy x on x.root = r.order_id
order by r.created_at + x.shift;

insert into nps_responses by name
select r.* replace (ref_sfx(r.response_id, x.k) as response_id, ref_sfx(r.order_id, x.k) as order_id,
                    ref_sfx(r.merchant_id, x.shop_k) as merchant_id,
                    r.created_at + x.shift as created_at, r.updated_at + x.shift as updated_at)
from tpl.nps_responses r join ref_order_copy x on x.root = r.order_id
order by r.created_at + x.shift;

insert into csat_responses by name
select r.* replace (ref_sfx(r.response_id, x.k) as response_id, ref_sfx(r.order_id, x.k) as order_id,
                    ref_sfx(r.merchant_id, x.shop_k) as merchant_id,
                    r.created_at + x.shift as created_at, r.updated_at + x.shift as updated_at)
from tpl.csat_responses r join ref_order_copy x on x.root = r.order_id
order by r.created_at + x.shift;

-- ── purchase orders: only the first `po_copies` copies (5,000 POs at full scale) ───────────────
create or replace temp table ref_po_copy as
select p.po_id as root, c.k,
       ref_pick(p.po_id, c.k, 'sku', (select sku_copies from ref_plan)) as sku_k,
       ref_pick(p.po_id, c.k, 'wh', (select wh_copies from ref_plan)) as wh_k,
       ref_shift(p.po_id, c.k) as shift
from tpl.purchase_orders p, ref_copies c
where c.k < (select po_copies from ref_plan);

insert into purchase_orders by name
select p.* replace (ref_sfx(p.po_id, x.k) as po_id, ref_sfx(p.sku, x.sku_k) as sku,
                    ref_sfx(p.warehouse_id, x.wh_k) as warehouse_id, p.ordered_at + x.shift as ordered_at,
                    p.promised_ship_date + x.shift as promised_ship_date, p.updated_at + x.shift as updated_at)
from tpl.purchase_orders p join ref_po_copy x on x.root = p.po_id
order by p.ordered_at + x.shift;

insert into po_progress by name
select p.* replace (ref_sfx(p.po_id, x.k) as po_id, p.observed_at + x.shift as observed_at)
from tpl.po_progress p join ref_po_copy x on x.root = p.po_id
order by p.observed_at + x.shift;

-- ── shipments and checkpoints follow their order or PO ────────────────────────────────────────
create or replace temp table ref_shipment_copy as
select s.shipment_id, x.k, x.wh_k, x.shift from tpl.shipments s join ref_order_copy x on x.root = s.order_id
union all
select s.shipment_id, x.k, x.wh_k, x.shift from tpl.shipments s join ref_po_copy x on x.root = s.po_id;

insert into shipments by name
select s.* replace (ref_sfx(s.shipment_id, x.k) as shipment_id, ref_sfx(s.tracking_number, x.k) as tracking_number,
                    ref_sfx(s.order_id, x.k) as order_id, ref_sfx(s.po_id, x.k) as po_id,
                    ref_sfx(s.warehouse_id, x.wh_k) as warehouse_id,
                    s.eta + x.shift as eta, s.promised_delivery_at + x.shift as promised_delivery_at,
                    s.shipped_at + x.shift as shipped_at, s.delivered_at + x.shift as delivered_at,
                    s.last_checkpoint_at + x.shift as last_checkpoint_at,
                    s.created_at + x.shift as created_at, s.updated_at + x.shift as updated_at)
from tpl.shipments s join ref_shipment_copy x using (shipment_id)
order by coalesce(s.created_at, s.shipped_at) + x.shift;

-- Copies keep each shipment's newest checkpoint and a `checkpoint_keep_pct` % sample of the
-- others (5M checkpoints at full scale; the template's parcels have ~7.5 each).
insert into tracking_events by name
with newest as (
    select shipment_id, max(checkpoint_time) as newest_at from tpl.tracking_events group by shipment_id
)
select t.* replace (ref_sfx(t.shipment_id, x.k) as shipment_id,
                    t.checkpoint_time + x.shift as checkpoint_time, t.created_at + x.shift as created_at)
from tpl.tracking_events t
join newest n using (shipment_id)
join ref_shipment_copy x using (shipment_id)
where x.k = 0 or t.checkpoint_time = n.newest_at
   or hash(t.shipment_id || t.checkpoint_time::text || x.k::text) % 100 < (select checkpoint_keep_pct from ref_plan)
order by t.created_at + x.shift;
