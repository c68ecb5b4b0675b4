-- The semantic layer's shared facts: what happened to each order, survey answer, PO and stock pair
-- as known at a moment, with every dimension a KPI can be filtered or broken down by. Each KPI in
-- this folder is one table macro `kpi_<name>` that selects from these facts and adds only its own
-- aggregate; tiles, trends, breakdowns, alerts, the retro, the report and the CLI all call the KPI
-- macros (tower/kpis.py), so a definition lives in exactly one place.
--
-- Conventions. Arguments are values (NULL filter = all); the caller casts them
-- (`$as_of::timestamptz`, `$market::text`) so their types are fixed. Parameters carry a suffix
-- (`_filter`, `as_of`, …) so they can never shadow a column. Everything is "as of" a moment: nothing
-- recorded at or after `as_of` counts, so replaying a past moment shows what was known then.
-- This file is applied before the KPI files (tower/db.py installs the layer at every open).


-- ─── grouping ────────────────────────────────────────────────────────────────────────────────────
-- kpi_group(dimension, merchant, channel, market, warehouse, carrier, supplier, sku): the value a
--   row is broken down by, chosen by name, never by building SQL from input. NULL dimension = one
--   group (NULL); a dimension a fact does not carry groups as '(unknown)'.
create or replace macro kpi_group(dimension, merchant, channel, market, warehouse, carrier, supplier, sku) as
    case
        when dimension is null then null
        else coalesce(case dimension
            when 'merchant' then merchant
            when 'channel' then channel
            when 'market' then market
            when 'warehouse' then warehouse
            when 'carrier' then carrier
            when 'supplier' then supplier
            when 'sku' then sku
        end, '(unknown)')
    end;

-- in_scope(value, wanted): whether a fact's dimension value passes a filter; a NULL filter means all.
create or replace macro in_scope(value, wanted) as wanted is null or value = wanted;

-- kpi_bucket(bucket, event_at): the UTC hour or day a fact falls in ('hour' | 'day'); NULL = no trend.
create or replace macro kpi_bucket(bucket, event_at) as
    case when bucket in ('hour', 'day') then date_trunc(bucket, event_at) end;

-- kpi_raw_only(): whether this connection asked for the KPIs straight from the raw facts.
create or replace macro kpi_raw_only() as coalesce(getvariable('kpi_raw_only'), false);

-- rollup_from(window_start, as_of): the first complete UTC hour of the window (at most as_of).
create or replace macro rollup_from(window_start, as_of) as least(as_of::timestamptz,
    case when isfinite(window_start::timestamptz) then date_trunc('hour', window_start::timestamptz)
        + case when date_trunc('hour', window_start::timestamptz) < window_start::timestamptz
            then interval 1 hour else interval 0 hour end
        else window_start::timestamptz end);

-- rollup_to(r_from, as_of, unsettled, raw_only): the end of the hours read from a rollup: the last
--   complete hour's end, or the first hour not exact as of as_of (unsettled), never before r_from.
create or replace macro rollup_to(r_from, as_of, unsettled, raw_only) as
    case when raw_only then r_from
        else greatest(r_from, least(date_trunc('hour', as_of::timestamptz), coalesce(unsettled, 'infinity'::timestamptz)))
    end;

-- rollup_edge(t, window_start, as_of, r_from, r_to): whether time t is in the window but outside the
--   hours read from a rollup.
create or replace macro rollup_edge(t, window_start, as_of, r_from, r_to) as
    t >= window_start and t < as_of and (t < r_from or t >= r_to);

-- ─── orders ──────────────────────────────────────────────────────────────────────────────────────
-- orders_with_delivery: each order with the outbound shipment that carries it (delivery time,
--   carrier, status): its newest by updated_at, ties broken by shipment id so every reader picks
--   the same one (first created in queries/schema/001_core.sql).
create or replace view orders_with_delivery as
select o.*, s.shipment_id, s.carrier, s.tag as shipment_tag, s.shipped_at, s.delivered_at, s.eta
from orders o
left join (
    select * from shipments
    where direction = 'outbound' and order_id is not null
    qualify row_number() over (partition by order_id order by updated_at desc, shipment_id desc) = 1
) s using (order_id);


-- order_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter,
--   carrier_filter, dimension): one row per order created before as_of, with what was known of it
--   then and the value of the breakdown dimension.
-- Columns: dimension_value, order_id, merchant_id, channel, market, warehouse_id, carrier, created_at,
--   shipped_at (shipped, else fulfilled; NULL if after as_of), delivered_at (NULL if after as_of),
--   promised_delivery_at, on_time (delivered by the promise; NULL undelivered or without promise),
--   returned (a return not rejected, opened before as_of), inaccurate (such a return for a wrong or
--   damaged item), cancelled, hours_to_deliver (order → delivered), shipping_cost and currency (the
--   shop's; kpi_shipping_cost_per_order converts it to the reporting currency).
create or replace macro order_facts(
    as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension
) as table
with returned as (
    select
        r.order_id,
        true as returned,
        bool_or(r.reason in ('wrong_item', 'damaged')) as inaccurate
    from returns r
    where r.created_at < as_of
      and coalesce(r.status, '') <> 'rejected'
    group by r.order_id
),

known as (
    select
        o.order_id, o.merchant_id, o.channel, o.market, o.warehouse_id, o.carrier,
        o.created_at, o.promised_delivery_at, o.shipping_cost, o.currency,
        case when coalesce(o.shipped_at, o.fulfilled_at) < as_of
            then coalesce(o.shipped_at, o.fulfilled_at) end as shipped_at,
        case when o.delivered_at < as_of then o.delivered_at end as delivered_at,
        o.cancelled_at is not null and o.cancelled_at < as_of as cancelled
    from orders_with_delivery o
    where o.created_at < as_of
      and in_scope(o.merchant_id, merchant_filter) and in_scope(o.channel, channel_filter)
      and in_scope(o.market, market_filter) and in_scope(o.warehouse_id, warehouse_filter)
      and in_scope(o.carrier, carrier_filter)
)

select
    kpi_group(dimension, k.merchant_id, k.channel, k.market, k.warehouse_id, k.carrier, null, null)
        as dimension_value,
    k.order_id, k.merchant_id, k.channel, k.market, k.warehouse_id, k.carrier,
    k.created_at, k.shipped_at, k.delivered_at, k.promised_delivery_at,
    k.delivered_at <= k.promised_delivery_at as on_time,
    coalesce(r.returned, false) as returned,
    coalesce(r.inaccurate, false) as inaccurate,
    k.cancelled,
    date_diff('microsecond', k.created_at, k.delivered_at) / 3600e6 as hours_to_deliver,
    k.shipping_cost, k.currency
from known k
left join returned r using (order_id);


-- ─── order lines ────────────────────────────────────────────────────────────────────────────────
-- line_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, dimension):
--   one row per order line of orders created before as_of.
-- Columns: dimension_value, order_id, sku, quantity, unit_cost, merchant_id, channel, market, warehouse_id,
--   warehouse_market, created_at, fulfilled (before as_of), cancelled (before as_of).
create or replace macro line_facts(
    as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, dimension
) as table
select
    kpi_group(dimension, o.merchant_id, o.channel, o.market, o.warehouse_id, null, null, l.sku)
        as dimension_value,
    l.order_id, l.sku, l.quantity, k.unit_cost,
    o.merchant_id, o.channel, o.market, o.warehouse_id, w.market as warehouse_market,
    o.created_at,
    o.fulfilled_at is not null and o.fulfilled_at < as_of as fulfilled,
    o.cancelled_at is not null and o.cancelled_at < as_of as cancelled
from order_lines l
join orders o using (order_id)
left join skus k on k.sku = l.sku
left join warehouses w on w.warehouse_id = o.warehouse_id
where o.created_at < as_of
  and in_scope(o.merchant_id, merchant_filter) and in_scope(o.channel, channel_filter)
  and in_scope(o.market, market_filter) and in_scope(o.warehouse_id, warehouse_filter);


-- ─── survey answers ─────────────────────────────────────────────────────────────────────────────
-- survey_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter,
--   carrier_filter, dimension): NPS (0–10) and CSAT (1–5) answers received before as_of, with the surveyed
--   order's dimensions (the answer's own merchant and market win when it carries them).
-- Columns: survey ('nps' | 'csat'), dimension_value, response_id, score, created_at, order_id, merchant_id, channel,
--   market, warehouse_id, carrier. Scores outside the survey's scale are left out.
create or replace macro survey_facts(
    as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension
) as table
with answers as (
    select 'nps' as survey, response_id, order_id, merchant_id, market, score, created_at
    from nps_responses
    where score between 0 and 10 and created_at < as_of
    union all
    select 'csat', response_id, order_id, merchant_id, market, score, created_at
    from csat_responses
    where score between 1 and 5 and created_at < as_of
),

dimensioned as (
    select
        a.survey, a.response_id, a.score, a.created_at, a.order_id,
        coalesce(a.merchant_id, o.merchant_id) as merchant_id,
        o.channel,
        coalesce(a.market, o.market) as market,
        o.warehouse_id,
        o.carrier
    from answers a
    left join orders_with_delivery o on o.order_id = a.order_id
)

select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, carrier, null, null)
        as dimension_value,
    *
from dimensioned
where in_scope(merchant_id, merchant_filter) and in_scope(channel, channel_filter)
  and in_scope(market, market_filter) and in_scope(warehouse_id, warehouse_filter)
  and in_scope(carrier, carrier_filter);


-- ─── shipments in flight ─────────────────────────────────────────────────────────────────────────
-- checkpoint_latest_before(at_ts): per shipment, its newest checkpoint before at_ts (ties: newest
--   created_at, then tag, then message). A shipment whose newest checkpoint of all (tracking_latest,
--   migration 020) is before at_ts takes that row; a shipment with a checkpoint at or after at_ts
--   takes its earlier checkpoint that was still the newest at at_ts (tracking_superseded, migration
--   021: each earlier checkpoint with the time of the next one, so checkpoint_time < at_ts <=
--   superseded_at holds for exactly that one). "Now" reads one row per shipment, a past moment adds
--   a range filter that skips all but the recently superseded row groups, instead of replaying every
--   parcel's history, and both stay exact. shipment_state_at reads the same two rows per shipment
--   without a join where it can (shipment_latest carries the newest checkpoint).
-- Columns: shipment_id, checkpoint_time, created_at, tag, message.
create or replace macro checkpoint_latest_before(at_ts) as table
select shipment_id, checkpoint_time, created_at, tag, message
from tracking_latest
where checkpoint_time < at_ts
union all
select shipment_id, checkpoint_time, created_at, tag, message
from tracking_superseded
where checkpoint_time < at_ts and superseded_at >= at_ts;

-- tracking_fixes_at(at_ts): each shipment's first and newest checkpoint with a position among those
--   at or before at_ts, as first_fix {lat, lon} and last_fix {lat, lon, location} ("first" and
--   "newest" by the checkpoint key: checkpoint_time, then tag, then message). A shipment whose newest
--   fix of all (tracking_fixes, migration 024) is at or before at_ts takes its stored row; only those
--   with a later one (a past moment) are recomputed from tracking_events. Shipments with no fix by
--   then have no row.
-- Columns: shipment_id, first_fix, last_fix.
create or replace macro tracking_fixes_at(at_ts) as table
select shipment_id, {'lat': first_lat, 'lon': first_lon} as first_fix,
    {'lat': last_lat, 'lon': last_lon, 'location': last_location} as last_fix
from tracking_fixes
where last_time <= at_ts
union all
select e.shipment_id,
    arg_min({'lat': e.lat, 'lon': e.lon}, {'t': e.checkpoint_time, 'tag': e.tag, 'm': e.message}),
    arg_max({'lat': e.lat, 'lon': e.lon, 'location': e.location},
            {'t': e.checkpoint_time, 'tag': e.tag, 'm': e.message})
from tracking_events as e
semi join (select shipment_id from tracking_fixes where last_time > at_ts) as later using (shipment_id)
where e.lat is not null and e.lon is not null and e.checkpoint_time <= at_ts
group by e.shipment_id;

-- shipment_state_at(at_ts, merchant_filter, channel_filter, market_filter, warehouse_filter,
--   carrier_filter, dimension): one row per shipment (inbound and outbound) created before at_ts and not
--   delivered by then, with its tracking tag and last activity as of at_ts (replays from
--   tracking_events, so "as of 10:00" is what we knew at 10:00). Merchant and channel keep only
--   outbound shipments of matching orders; market is the order's, else the warehouse's, else the
--   destination country. Rows tagged Delivered/Expired as of at_ts are still returned: callers keep
--   what they count as in transit. Reads shipment_latest (migration 023: each shipment with its
--   newest checkpoint), so "now" joins nothing by shipment id; issue 15, reference scale: the
--   overview's shipments past ETA 39 → 8 ms now, 48 → 23 ms 24 h ago (bench/README "Scale").
-- Columns: dimension_value, shipment_id, direction, mode, carrier, merchant_id, channel, market, warehouse_id, eta,
--   tag_as_of, in_transit (tag not Delivered/Expired), last_activity_at (newest checkpoint before
--   at_ts, else creation), as_of (= at_ts).
create or replace macro shipment_state_at(
    at_ts, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension
) as table
with flying as not materialized (
    -- created before at_ts and not delivered by then (not materialized: each branch below scans it
    -- for its own rows, so the ids are read only where a join needs them)
    select * from shipment_latest
    where coalesce(created_at, shipped_at) < at_ts and (delivered_at is null or delivered_at >= at_ts)
),

checkpointed as (
    -- the newest checkpoint recorded before at_ts gives the shipment's tag at that moment: its newest
    -- of all when that is older (shipment_latest carries it: no join), else the earlier one that was
    -- still the newest at at_ts (tracking_superseded), as checkpoint_latest_before reads them
    select *, case when checkpoint_time < at_ts then checkpoint_tag end as tag_then,
        case when checkpoint_time < at_ts then checkpoint_time end as checkpoint_then
    from flying
    where not coalesce(checkpoint_time >= at_ts, false)
    union all
    select f.*, c.tag, c.checkpoint_time
    from flying f
    left join tracking_superseded c
        on c.shipment_id = f.shipment_id and c.checkpoint_time < at_ts and c.superseded_at >= at_ts
    where f.checkpoint_time >= at_ts
),

state as (
    select
        s.shipment_id,
        s.direction,
        s.mode,
        s.carrier,
        o.merchant_id,
        o.channel,
        coalesce(o.market, w.market, s.destination_country) as market,
        s.warehouse_id,
        s.eta,
        coalesce(s.tag_then, case when s.updated_at < at_ts then s.tag end, 'Pending') as tag_as_of,
        coalesce(
            s.checkpoint_then,
            case when s.last_checkpoint_at < at_ts then s.last_checkpoint_at end,
            coalesce(s.created_at, s.shipped_at)
        ) as last_activity_at,
        at_ts as as_of
    from checkpointed s
    -- the order only matters to a merchant, channel or market filter or breakdown: without one the
    -- join reads nothing (a shipment's market then falls back to its warehouse's, unused)
    left join orders o on o.order_id = s.order_id
        and (merchant_filter is not null or channel_filter is not null or market_filter is not null
             or coalesce(dimension in ('merchant', 'channel', 'market'), false))
    left join warehouses w on w.warehouse_id = s.warehouse_id
)

select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, carrier, null, null)
        as dimension_value,
    *,
    tag_as_of not in ('Delivered', 'Expired') as in_transit
from state
where in_scope(merchant_id, merchant_filter) and in_scope(channel, channel_filter)
  and in_scope(market, market_filter) and in_scope(warehouse_id, warehouse_filter)
  and in_scope(carrier, carrier_filter);


-- ─── stock ───────────────────────────────────────────────────────────────────────────────────────
-- stock_latest_before(at_ts): per sku × warehouse, its newest stock observation before at_ts. A pair
--   whose newest observation of all (stock_latest, migration 020) is before at_ts takes that row;
--   only pairs observed at or after at_ts replay their history, so "now" reads one row per pair.
--   The replay looks in the day before at_ts first (stock is counted many times a day, and the
--   day's rows are a small slice of a month of history: 2-3x faster at the reference scale); only a
--   pair silent all that day reads further back.
-- Columns: sku, warehouse_id, observed_at, available.
create or replace macro stock_latest_before(at_ts) as table
with newer as (
    select sku, warehouse_id from stock_latest where observed_at >= at_ts
),

-- (arg_max, not a window: with a filter above, e.g. `available > 0`, the window plan scanned and
--  sorted the whole history even live, 1.2 s at the reference scale; the key makes observed_at unique)
-- (grouped before the semi join, which then probes one row per pair instead of every row of the
--  day; the bare guard skips the day entirely when no pair was observed since at_ts, e.g. "now")
day_before as (
    select o.sku, o.warehouse_id, max(o.observed_at) as observed_at, arg_max(o.available, o.observed_at) as available
    from stock_observations o
    where o.observed_at < at_ts and o.observed_at >= at_ts - interval 1 day
      and at_ts <= (select max(observed_at) from stock_latest)
    group by all
),

last_day as (
    select * from day_before semi join newer using (sku, warehouse_id)
)

select sku, warehouse_id, observed_at, available
from stock_latest
where observed_at < at_ts
union all
select sku, warehouse_id, observed_at, available
from last_day
union all
select o.sku, o.warehouse_id, max(o.observed_at), arg_max(o.available, o.observed_at)
from stock_observations o
semi join (select sku, warehouse_id from newer anti join last_day using (sku, warehouse_id)) silent
    using (sku, warehouse_id)
where o.observed_at < at_ts - interval 1 day
group by all;

-- raw_pair_units(since, at_ts): units sold per sku × fulfilling warehouse on the orders placed in
--   [since, at_ts) and not cancelled by at_ts, straight from order_lines × orders: what the two
--   macros below read with kpi_raw_only(), the definition their rollup reads must equal.
-- Columns: sku, warehouse_id, units.
create or replace macro raw_pair_units(since, at_ts) as table
select l.sku, o.warehouse_id, sum(l.quantity) as units
from order_lines l
join orders o using (order_id)
where o.created_at >= since and o.created_at < at_ts
  and (o.cancelled_at is null or o.cancelled_at >= at_ts)
group by all;

-- pair_units_7d(at_ts): units sold per sku × fulfilling warehouse in the 7 days before at_ts (orders
--   not cancelled by then) — read from the hourly line rollup for the complete, settled hours and
--   line by line (rollup_lines) for the rest, as line_units does; with kpi_raw_only() straight from
--   order_lines × orders. Several rows per pair: sum them.
-- Columns: sku, warehouse_id, units.
create or replace macro pair_units_7d(at_ts) as table
with span as (
    select f.r_from, rollup_to(f.r_from, at_ts, (
        select min(u.hour) from rollup_line_hours u
        where u.hour >= f.r_from and u.hour < date_trunc('hour', at_ts::timestamptz) and u.settled_at >= at_ts
    ), kpi_raw_only()) as r_to
    from (select rollup_from(at_ts - interval 7 day, at_ts) as r_from) f
)

select r.sku, r.warehouse_id, sum(r.units) as units
from rollup_line_hours r, span
where not kpi_raw_only() and r.hour >= span.r_from and r.hour < span.r_to
  and r.hour >= at_ts - interval 7 day - interval 1 hour  -- (a bare column: fewer row groups read)
group by all

union all

select l.sku, l.warehouse_id, sum(l.quantity)
from rollup_lines l, span
where not kpi_raw_only() and not coalesce(l.cancelled_at < at_ts, false)
  and l.created_at >= at_ts - interval 7 day and l.created_at < at_ts
  and rollup_edge(l.created_at, at_ts - interval 7 day, at_ts, span.r_from, span.r_to)
group by all

union all

select * from raw_pair_units(at_ts - interval 7 day, at_ts) where kpi_raw_only();

-- pair_units_4h(at_ts): units sold per sku × fulfilling warehouse in the 4 hours before at_ts (orders
--   not cancelled by then), line by line (rollup_lines; with kpi_raw_only() order_lines × orders).
--   Apart from the 7 days: the pace alone (hours to stockout, stockouts) never reads a week of sales.
-- Columns: sku, warehouse_id, units.
create or replace macro pair_units_4h(at_ts) as table
select l.sku, l.warehouse_id, sum(l.quantity) as units
from rollup_lines l
where not kpi_raw_only() and not coalesce(l.cancelled_at < at_ts, false)
  and l.created_at >= at_ts - interval 4 hour and l.created_at < at_ts
group by all

union all

select * from raw_pair_units(at_ts - interval 4 hour, at_ts) where kpi_raw_only();

-- stock_pace_at(at_ts, market_filter): one row per sku × warehouse with a stock observation before
--   at_ts (market = the warehouse's, NULL = all): units available then, and the pace they sell at —
--   the facts of the stockouts and hours_to_stockout KPIs, which need no week of sales.
-- Columns: sku, warehouse_id, market, available, observed_at, units_per_hour (the last 4 hours),
--   hours_to_stockout (0 when out, NULL without sales in 4 h). Unordered.
create or replace macro stock_pace_at(at_ts, market_filter) as table
with stock_as_of as (
    -- latest observation before at_ts per pair (history for a past moment, so "as of 10:00" replays)
    select o.sku, o.warehouse_id, w.market, o.available, o.observed_at
    from stock_latest_before(at_ts) o
    left join warehouses w using (warehouse_id)
    where market_filter is null or w.market = market_filter
),

pace as (
    select sku, warehouse_id, sum(units) as units from pair_units_4h(at_ts) group by all
)

select
    s.sku, s.warehouse_id, s.market, s.available, s.observed_at,
    coalesce(p.units, 0) / 4.0 as units_per_hour,
    case
        when s.available <= 0 then 0.0
        when coalesce(p.units, 0) > 0 then s.available / (p.units / 4.0)
    end as hours_to_stockout
from stock_as_of s
left join pace p using (sku, warehouse_id);

-- stock_position_at(at_ts, market_filter): stock_pace_at with the cover the 7 days before at_ts
--   give — the facts of the days_of_supply KPI and of stock_health_at.
-- Columns: sku, warehouse_id, market, available, observed_at, units_sold_7d, units_per_hour,
--   days_of_supply (available ÷ 7-day average, NULL without sales), hours_to_stockout. Unordered.
create or replace macro stock_position_at(at_ts, market_filter) as table
with cover as (
    select sku, warehouse_id, sum(units) as units from pair_units_7d(at_ts) group by all
)

select
    s.sku, s.warehouse_id, s.market, s.available, s.observed_at,
    coalesce(c.units, 0)::bigint as units_sold_7d,
    s.units_per_hour,
    greatest(s.available, 0) / nullif(coalesce(c.units, 0) / 7.0, 0) as days_of_supply,
    s.hours_to_stockout
from stock_pace_at(at_ts, market_filter) s
left join cover c using (sku, warehouse_id);

-- stock_health_at(at_ts, market_filter): stock_position_at with what the Stock page and the stock
--   alerts add: names, the safety / warning / limit watermarks, the planned cover, what is on its way
--   and a status.
-- Columns: sku, sku_name, sku_class, warehouse_id, warehouse_name, market, available, observed_at,
--   safety_qty, warning_qty, limit_qty, cover_days, units_sold_7d, units_per_hour, days_of_supply,
--   hours_to_stockout, inbound_qty, inbound_in_transit_qty, next_inbound_eta, next_po_ship_date,
--   status (red: out or below limit | yellow: below warning | over: more than twice the planned cover
--   | green). Unordered.
create or replace macro stock_health_at(at_ts, market_filter) as table
with arrived_pos as (
    -- inbound: POs not cancelled/closed whose goods have not arrived by at_ts
    select distinct s.po_id
    from shipments s
    where s.direction = 'inbound' and s.po_id is not null and s.delivered_at < at_ts
),

moving_pos as (
    select s.po_id, min(s.eta) as eta
    from shipments s
    where s.direction = 'inbound'
      and s.po_id is not null
      and coalesce(s.created_at, s.shipped_at) < at_ts
      and (s.delivered_at is null or s.delivered_at >= at_ts)
    group by s.po_id
),

inbound as (
    select
        po.sku,
        po.warehouse_id,
        sum(po.quantity_ordered) as inbound_qty,
        coalesce(sum(po.quantity_ordered) filter (where m.po_id is not null), 0)
            as inbound_in_transit_qty,
        min(m.eta) as next_inbound_eta,
        min(po.promised_ship_date) filter (where m.po_id is null) as next_po_ship_date
    from purchase_orders po
    left join moving_pos m using (po_id)
    left join arrived_pos a using (po_id)
    where po.ordered_at < at_ts
      and coalesce(po.status, '') not in ('cancelled', 'closed')
      and a.po_id is null
    group by all
),

health as (
    select
        s.sku,
        k.name as sku_name,
        k.sku_class,
        s.warehouse_id,
        w.name as warehouse_name,
        s.market,
        s.available,
        s.observed_at,
        sp.safety_qty,
        sp.warning_qty,
        sp.limit_qty,
        -- planned cover by class (DESIGN §1): core 45 d, potential 30 d, long tail 15 d
        case k.sku_class when 'core' then 45 when 'potential' then 30 when 'long_tail' then 15
            else 30 end as cover_days,
        s.units_sold_7d,
        s.units_per_hour,
        s.days_of_supply,
        s.hours_to_stockout,
        coalesce(i.inbound_qty, 0)::bigint as inbound_qty,
        coalesce(i.inbound_in_transit_qty, 0)::bigint as inbound_in_transit_qty,
        i.next_inbound_eta,
        i.next_po_ship_date
    from stock_position_at(at_ts, market_filter) s
    left join skus k using (sku)
    left join warehouses w using (warehouse_id)
    left join stock_policies sp using (sku, warehouse_id)
    left join inbound i using (sku, warehouse_id)
)

select
    *,
    case
        when available <= 0 or available < limit_qty then 'red'
        when available < warning_qty then 'yellow'
        when days_of_supply > 2 * cover_days then 'over'
        else 'green'
    end as status
from health;


-- ─── purchase orders ────────────────────────────────────────────────────────────────────────────
-- po_progress_latest_before(at_ts): per PO, its newest progress report before at_ts. A PO whose
--   newest report of all (po_progress_latest, migration 020) is before at_ts takes that row; only POs
--   with a report at or after at_ts replay their history.
-- Columns: po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source.
create or replace macro po_progress_latest_before(at_ts) as table
select po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source
from po_progress_latest
where observed_at < at_ts
union all
select r.po_id, r.observed_at, r.quantity_produced, r.quantity_qc_passed, r.quantity_shipped,
    r.status, r.source
from po_progress r
semi join (select po_id from po_progress_latest where observed_at >= at_ts) newer using (po_id)
where r.observed_at < at_ts
qualify row_number() over (partition by r.po_id order by r.observed_at desc) = 1;

-- po_state_at(window_start, as_of, market_filter, warehouse_filter, dimension): POs ordered before as_of, not
--   cancelled, due in [window_start, …) or still unfinished, with the supplier's latest progress
--   report before as_of against a straight-line plan (0 % at order, 100 % at the promised ship date).
-- Columns: dimension_value, po_id, supplier_id, supplier_name, tier, sku, warehouse_id, market, quantity_ordered,
--   quantity_produced, quantity_qc_passed, quantity_shipped, produced_pct, expected_pct,
--   behind_points, ordered_at, promised_ship_date, last_report_at, hours_since_report, finished,
--   late (unfinished after the promised ship date), status.
create or replace macro po_state_at(window_start, as_of, market_filter, warehouse_filter, dimension) as table
with progress_as_of as (
    select
        r.po_id, r.observed_at, r.quantity_produced, r.quantity_qc_passed, r.quantity_shipped,
        -- finished: all shipped, or the supplier reports shipped/closed (QC rejects can leave a gap)
        r.quantity_shipped >= po.quantity_ordered or r.status in ('shipped', 'closed') as finished
    from po_progress_latest_before(as_of) r
    join purchase_orders po using (po_id)
),

active as (
    select
        po.po_id, po.supplier_id, s.name as supplier_name, s.tier, po.sku, po.warehouse_id,
        w.market, po.quantity_ordered,
        coalesce(r.quantity_produced, 0) as quantity_produced,
        coalesce(r.quantity_qc_passed, 0) as quantity_qc_passed,
        coalesce(r.quantity_shipped, 0) as quantity_shipped,
        100.0 * least(coalesce(r.quantity_produced, 0), po.quantity_ordered) / po.quantity_ordered
            as produced_pct,
        case
            when po.promised_ship_date <= po.ordered_at then 100.0
            else 100.0 * greatest(0.0, least(1.0,
                date_diff('microsecond', po.ordered_at, as_of)
                / date_diff('microsecond', po.ordered_at, po.promised_ship_date)))
        end as expected_pct,
        po.ordered_at, po.promised_ship_date,
        r.observed_at as last_report_at,
        date_diff('microsecond', r.observed_at, as_of) / 3600e6 as hours_since_report,
        coalesce(r.finished, false) as finished,
        po.status
    from purchase_orders po
    left join progress_as_of r using (po_id)
    left join suppliers s using (supplier_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at < as_of
      and po.quantity_ordered > 0
      and po.promised_ship_date is not null
      and coalesce(po.status, '') <> 'cancelled'
      and (po.promised_ship_date >= window_start or not coalesce(r.finished, false))
      and (market_filter is null or w.market = market_filter)
      and (warehouse_filter is null or po.warehouse_id = warehouse_filter)
)

select
    kpi_group(dimension, null, null, market, warehouse_id, null, supplier_id, sku) as dimension_value,
    *,
    expected_pct - produced_pct as behind_points,
    not finished and as_of::date > promised_ship_date::date as late
from active;


-- ─── rollups: the same counts from complete hours (issue 15) ─────────────────────────────────────
-- The additive KPIs (on-time, OTIF, return rate, order accuracy, NPS, CSAT, sales vs forecast) read
-- a window [window_start, as_of) as: complete UTC hours from the hourly rollups (migration 019, kept
-- by connectors/rollups.py at every write) + the partial hours at both edges from per-order rows
-- (rollup_orders, which keep the time each fact became true) or the raw answers / lines, so a
-- window costs O(hours), not O(rows). Percentiles (delivery_speed_p50/p90) are not additive and
-- stay on the raw facts.
--
-- "As of" stays exact. The hourly rows count the data as it stands now, and each row records the
-- newest time of anything it counted (settled_at). An hour whose rows are not all settled before
-- as_of (a replay or retro of a past moment: a return requested later, a cancellation made later)
-- is not read from the rollup: from the first such hour on, the window is read from the per-order
-- rows, which are exact at any as_of (e.g. returned = returned_at < as_of). Live, as_of is after
-- every record, so only the two edge hours are read per order. Survey answers carry no later
-- timestamp (their dimensions are the order's current ones, as in survey_facts), so their complete
-- hours are always exact.
--
-- Each counting macro takes raw_only: true computes the same counts from order_facts /
-- survey_facts / line_facts over the whole window (the definition). The KPI macros pass
-- kpi_raw_only(): false unless the connection ran queries/rollups/raw_only.sql (`set variable
-- kpi_raw_only = true`), which tests/test_rollups.py uses to check that both paths agree and an
-- operator can use to rule the rollups out when a number looks wrong.

-- order_counts(…, dimension, bucket, basis_kind, raw_only): per breakdown value and bucket, the
--   orders delivered (basis_kind 'delivered') or shipped ('shipped') in the window and how many of
--   them were promised, on time, OTIF, returned, inaccurate — order_facts' flags, summed.
create or replace macro order_counts(window_start, as_of, merchant_filter, channel_filter, market_filter,
    warehouse_filter, carrier_filter, dimension, bucket, basis_kind, raw_only
) as table
with span as (
    select f.r_from, rollup_to(f.r_from, as_of, (
        select min(u.hour) from rollup_order_hours u
        where u.basis = basis_kind and u.hour >= f.r_from and u.hour < date_trunc('hour', as_of)
          and u.settled_at >= as_of
    ), raw_only) as r_to
    from (select rollup_from(window_start, as_of) as r_from) f
),

counted as (
    -- complete, settled hours
    select r.merchant_id, r.channel, r.market, r.warehouse_id, r.carrier, r.hour as counted_at,
        r.orders, r.promised, r.on_time, r.otif, r.returned, r.inaccurate
    from rollup_order_hours r, span
    where not raw_only and r.basis = basis_kind and r.hour >= span.r_from and r.hour < span.r_to
      and in_scope(r.merchant_id, merchant_filter) and in_scope(r.channel, channel_filter)
      and in_scope(r.market, market_filter) and in_scope(r.warehouse_id, warehouse_filter)
      and in_scope(r.carrier, carrier_filter)

    union all

    -- the rest of the window, order by order, as of as_of
    select o.merchant_id, o.channel, o.market, o.warehouse_id, o.carrier, o.counted_at,
        1, (o.on_time is not null)::int, coalesce(o.on_time, false)::int,
        coalesce(o.on_time and not o.inaccurate, false)::int, o.returned::int, o.inaccurate::int
    from (
        select *,
            case basis_kind when 'delivered' then delivered_at else shipped_at end as counted_at,
            delivered_at <= promised_delivery_at as on_time,
            coalesce(returned_at < as_of, false) as returned,
            coalesce(inaccurate_at < as_of, false) as inaccurate
        from rollup_orders
    ) o, span
    where not raw_only and o.created_at < as_of
      and rollup_edge(o.counted_at, window_start, as_of, span.r_from, span.r_to)
      and in_scope(o.merchant_id, merchant_filter) and in_scope(o.channel, channel_filter)
      and in_scope(o.market, market_filter) and in_scope(o.warehouse_id, warehouse_filter)
      and in_scope(o.carrier, carrier_filter)

    union all

    -- the definition, row by row
    select merchant_id, channel, market, warehouse_id, carrier, counted_at,
        1, (on_time is not null)::int, coalesce(on_time, false)::int,
        coalesce(on_time and not inaccurate, false)::int, returned::int, inaccurate::int
    from (
        select *, case basis_kind when 'delivered' then delivered_at else shipped_at end as counted_at
        from order_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter,
            carrier_filter, null)
    )
    where raw_only and counted_at >= window_start
)

select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, carrier, null, null) as dimension_value,
    kpi_bucket(bucket, counted_at) as bucket_start,
    sum(orders)::bigint as orders, sum(promised)::bigint as promised, sum(on_time)::bigint as on_time,
    sum(otif)::bigint as otif, sum(returned)::bigint as returned, sum(inaccurate)::bigint as inaccurate
from counted
group by all;

-- delivery_hours(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter,
--   carrier_filter, dimension, raw_only): one row per order delivered in [window_start, as_of), with
--   the hours from order to delivery. A percentile cannot be summed per hour, so this reads the
--   per-order rollup (rollup_orders: one narrow row per order, its delivery already found) instead
--   of finding every order's newest parcel (order_facts); with kpi_raw_only() from order_facts.
-- Columns: dimension_value, delivered_at, hours_to_deliver.
create or replace macro delivery_hours(window_start, as_of, merchant_filter, channel_filter, market_filter,
    warehouse_filter, carrier_filter, dimension, raw_only
) as table
select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, carrier, null, null) as dimension_value,
    delivered_at,
    date_diff('microsecond', created_at, delivered_at) / 3600e6 as hours_to_deliver
from rollup_orders
where not raw_only and created_at < as_of and delivered_at >= window_start and delivered_at < as_of
  and in_scope(merchant_id, merchant_filter) and in_scope(channel, channel_filter)
  and in_scope(market, market_filter) and in_scope(warehouse_id, warehouse_filter)
  and in_scope(carrier, carrier_filter)

union all

select dimension_value, delivered_at, hours_to_deliver
from order_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension)
where raw_only and delivered_at >= window_start and hours_to_deliver is not null;

-- survey_counts(…, dimension, bucket, survey_kind, raw_only): per breakdown value and bucket, the
--   answers of survey 'nps' or 'csat' received in the window: answers, promoters (9–10), detractors
--   (0–6), satisfied (4–5) — survey_facts summed.
create or replace macro survey_counts(window_start, as_of, merchant_filter, channel_filter, market_filter,
    warehouse_filter, carrier_filter, dimension, bucket, survey_kind, raw_only
) as table
with span as (
    select f.r_from, rollup_to(f.r_from, as_of, null, raw_only) as r_to
    from (select rollup_from(window_start, as_of) as r_from) f
),

edge_answers as (
    -- the answers of the rest of the window, one by one (rollup_answers: with their order's dimensions)
    select a.score, a.created_at, a.merchant_id, a.channel, a.market, a.warehouse_id, a.carrier
    from rollup_answers a, span
    where not raw_only and a.survey = survey_kind
      and rollup_edge(a.created_at, window_start, as_of, span.r_from, span.r_to)
),

counted as (
    select r.merchant_id, r.channel, r.market, r.warehouse_id, r.carrier, r.hour as counted_at,
        r.answers, r.promoters, r.detractors, r.satisfied
    from rollup_survey_hours r, span
    where not raw_only and r.survey = survey_kind and r.hour >= span.r_from and r.hour < span.r_to

    union all

    select merchant_id, channel, market, warehouse_id, carrier, created_at,
        1, (score >= 9)::int, (score <= 6)::int, (score >= 4)::int
    from edge_answers

    union all

    select merchant_id, channel, market, warehouse_id, carrier, created_at,
        1, (score >= 9)::int, (score <= 6)::int, (score >= 4)::int
    from survey_facts(as_of, null, null, null, null, null, null)
    where raw_only and survey = survey_kind and created_at >= window_start
)

select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, carrier, null, null) as dimension_value,
    kpi_bucket(bucket, counted_at) as bucket_start,
    sum(answers)::bigint as answers, sum(promoters)::bigint as promoters,
    sum(detractors)::bigint as detractors, sum(satisfied)::bigint as satisfied
from counted
where in_scope(merchant_id, merchant_filter) and in_scope(channel, channel_filter)
  and in_scope(market, market_filter) and in_scope(warehouse_id, warehouse_filter)
  and in_scope(carrier, carrier_filter)
group by all;

-- line_units(…, dimension, bucket, raw_only): per breakdown value and bucket, the order lines of
--   orders placed in the window and not cancelled (as of as_of), and their units — line_facts summed.
--   Groups with no such line are left out.
create or replace macro line_units(window_start, as_of, merchant_filter, channel_filter, market_filter,
    warehouse_filter, dimension, bucket, raw_only
) as table
with span as (
    select f.r_from, rollup_to(f.r_from, as_of, (
        select min(u.hour) from rollup_line_hours u
        where u.hour >= f.r_from and u.hour < date_trunc('hour', as_of) and u.settled_at >= as_of
    ), raw_only) as r_to
    from (select rollup_from(window_start, as_of) as r_from) f
),

counted as (
    select r.sku, r.merchant_id, r.channel, r.market, r.warehouse_id, r.hour as counted_at, r.lines, r.units
    from rollup_line_hours r, span
    where not raw_only and r.hour >= span.r_from and r.hour < span.r_to

    union all

    -- the rest of the window, line by line (rollup_lines: the lines with their order), as of as_of
    select l.sku, l.merchant_id, l.channel, l.market, l.warehouse_id, l.created_at, 1, l.quantity
    from rollup_lines l, span
    where not raw_only and not coalesce(l.cancelled_at < as_of, false)
      and rollup_edge(l.created_at, window_start, as_of, span.r_from, span.r_to)

    union all

    -- the definition, line by line
    select sku, merchant_id, channel, market, warehouse_id, created_at, 1, quantity
    from line_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, null)
    where raw_only and not cancelled and created_at >= window_start
)

select
    kpi_group(dimension, merchant_id, channel, market, warehouse_id, null, null, sku) as dimension_value,
    kpi_bucket(bucket, counted_at) as bucket_start,
    sum(lines)::bigint as lines, sum(units) as units
from counted
where in_scope(merchant_id, merchant_filter) and in_scope(channel, channel_filter)
  and in_scope(market, market_filter) and in_scope(warehouse_id, warehouse_filter)
group by all
having sum(lines) > 0;
