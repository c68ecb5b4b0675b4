-- 019_rollups: hourly rollups of the order, survey and order-line facts (issue 15), so a KPI over a
-- window reads complete hours from here and only its partial edge hours from per-order rows, instead
-- of every raw row. Raw rows stay the truth: connectors/rollups.py keeps these tables in step with
-- every upsert (same transaction) and can rebuild them from raw; tests/test_rollups.py asserts both
-- give the same tables and the same KPI numbers. The statements that fill them are the files in
-- queries/rollups/ (this migration's backfill below is the same SQL with every hour selected).

-- rollup_orders: one row per order with what the KPIs need of it and the time each fact became true, so "as of" any moment is exact (derived from orders, their newest outbound shipment and their returns).
create table if not exists rollup_orders (
    order_id              text primary key,  -- Shopify order id (orders.order_id)
    merchant_id           text,              -- the shop the order was placed in
    channel               text,              -- sales channel of the order
    market                text,              -- destination country (ISO)
    warehouse_id          text,              -- fulfilling warehouse
    carrier               text,              -- courier slug of the order's newest outbound shipment
    created_at            timestamptz,       -- when the customer placed the order (UTC)
    promised_delivery_at  timestamptz,       -- delivery promised at checkout (UTC)
    shipped_at            timestamptz,       -- carrier pickup of the newest outbound shipment, else the order's fulfilment (UTC)
    delivered_at          timestamptz,       -- delivery of the newest outbound shipment (UTC); NULL while under way
    returned_at           timestamptz,       -- first return request not rejected (UTC); NULL if none
    inaccurate_at         timestamptz        -- first such return for a wrong or damaged item (UTC); NULL if none
);

-- rollup_lines: one row per order line with its order's time, cancellation and dimensions, so the lines of the orders placed in a window's partial edge hours are found without joining every line (derived from order_lines and orders).
create table if not exists rollup_lines (
    order_id      text,                      -- the order (order_lines.order_id)
    line_id       text,                      -- Shopify line item id
    sku           text,                      -- the SKU sold
    quantity      integer,                   -- units ordered on this line
    created_at    timestamptz,               -- when the order was placed (UTC)
    cancelled_at  timestamptz,               -- when the order was cancelled; NULL if it was not
    merchant_id   text,                      -- the order's shop
    channel       text,                      -- the order's sales channel
    market        text,                      -- the order's destination country
    warehouse_id  text                       -- the order's fulfilling warehouse
);

-- rollup_order_hours: orders counted per UTC hour of their delivery (basis delivered) or shipment (basis shipped) and per dimension, as the raw rows stand now; settled_at tells from which "as of" on the row is exact.
create table if not exists rollup_order_hours (
    basis         text not null,             -- which time the hour is of: delivered | shipped
    hour          timestamptz not null,      -- start of the UTC hour
    merchant_id   text,                      -- the orders' shop
    channel       text,                      -- the orders' sales channel
    market        text,                      -- the orders' destination country
    warehouse_id  text,                      -- the orders' fulfilling warehouse
    carrier       text,                      -- courier of the orders' newest outbound shipment
    orders        bigint not null,           -- orders whose delivery (or shipment) fell in the hour
    promised      bigint not null,           -- of those, delivered with a promised date (the on-time rate's n)
    on_time       bigint not null,           -- delivered on or before the promise
    otif          bigint not null,           -- on time and no wrong-item or damaged return
    returned      bigint not null,           -- with a return request not rejected
    inaccurate    bigint not null,           -- with such a return for a wrong or damaged item
    settled_at    timestamptz not null       -- newest time of anything counted (order, delivery or shipment, return): exact for an as-of after it
);

-- rollup_answers: one row per NPS or CSAT answer the KPIs count, with the surveyed order's dimensions, so the answers of a window's partial edge hours are found without joining every order (derived from nps_responses, csat_responses and rollup_orders).
create table if not exists rollup_answers (
    survey        text not null,             -- nps | csat
    response_id   text not null,             -- Delighted survey response id
    order_id      text,                      -- the surveyed order
    score         integer,                   -- the answer (NPS 0–10, CSAT 1–5)
    created_at    timestamptz,               -- when the customer answered (UTC)
    merchant_id   text,                      -- the answer's shop, else the order's
    channel       text,                      -- the surveyed order's sales channel
    market        text,                      -- the answer's country, else the order's
    warehouse_id  text,                      -- the surveyed order's fulfilling warehouse
    carrier       text                       -- courier of the surveyed order's newest outbound shipment
);

-- rollup_survey_hours: NPS and CSAT answers per UTC hour of answering and per dimension (the surveyed order's, the answer's own merchant and market winning).
create table if not exists rollup_survey_hours (
    survey        text not null,             -- nps | csat
    hour          timestamptz not null,      -- start of the UTC hour
    merchant_id   text,                      -- the answer's shop, else the order's
    channel       text,                      -- the surveyed order's sales channel
    market        text,                      -- the answer's country, else the order's
    warehouse_id  text,                      -- the surveyed order's fulfilling warehouse
    carrier       text,                      -- courier of the surveyed order's newest outbound shipment
    answers       bigint not null,           -- answers on the survey's scale (NPS 0–10, CSAT 1–5)
    promoters     bigint not null,           -- NPS answers of 9 or 10
    detractors    bigint not null,           -- NPS answers of 0 to 6
    satisfied     bigint not null            -- CSAT answers of 4 or 5
);

-- rollup_line_hours: units ordered per UTC hour of the order and per SKU and dimension, orders cancelled now left out; settled_at tells from which "as of" on the row is exact.
create table if not exists rollup_line_hours (
    hour          timestamptz not null,      -- start of the UTC hour the orders were placed in
    sku           text,                      -- the SKU sold
    merchant_id   text,                      -- the orders' shop
    channel       text,                      -- the orders' sales channel
    market        text,                      -- the orders' destination country
    warehouse_id  text,                      -- the orders' fulfilling warehouse
    lines         bigint not null,           -- order lines of orders not cancelled
    units         bigint not null,           -- units on those lines
    settled_at    timestamptz not null       -- newest order or cancellation time counted: exact for an as-of after it
);

-- rollup_forecast_hours: forecast units per forecast period and market (all SKUs), so sales vs forecast over a window without a SKU breakdown reads one row per period and market (derived from forecasts).
create table if not exists rollup_forecast_hours (
    period_start  timestamptz not null,      -- start of the forecast hour (forecasts.period_start)
    market        text,                      -- market (ISO country) the units are sold in
    units         double                     -- units forecast for the hour over all SKUs (NULL when none has a number)
);

-- ─── backfill from the raw rows (queries/rollups/*_insert.sql with every hour selected) ───────────

insert into rollup_orders
with scope as (
    select unnest([]::text[]) as order_id
),

delivery as (
    select order_id, carrier, shipped_at, delivered_at
    from shipments
    where direction = 'outbound' and order_id is not null
      and (true or order_id in (select order_id from scope))
    qualify row_number() over (partition by order_id order by updated_at desc, shipment_id desc) = 1
),

returned as (
    select
        order_id,
        min(created_at) as returned_at,
        min(created_at) filter (where reason in ('wrong_item', 'damaged')) as inaccurate_at
    from returns
    where coalesce(status, '') <> 'rejected' and created_at is not null and order_id is not null
      and (true or order_id in (select order_id from scope))
    group by order_id
)

select
    o.order_id, o.merchant_id, o.channel, o.market, o.warehouse_id, s.carrier,
    o.created_at, o.promised_delivery_at,
    coalesce(s.shipped_at, o.fulfilled_at) as shipped_at,
    s.delivered_at, r.returned_at, r.inaccurate_at
from orders o
left join delivery s using (order_id)
left join returned r using (order_id)
where true or o.order_id in (select order_id from scope)
order by coalesce(s.delivered_at, o.created_at);

insert into rollup_lines
select l.order_id, l.line_id, l.sku, l.quantity, o.created_at, o.cancelled_at,
    o.merchant_id, o.channel, o.market, o.warehouse_id
from order_lines l
join orders o using (order_id)
where true or l.order_id in (select unnest([]::text[]))
order by o.created_at;

insert into rollup_order_hours
select
    'delivered' as basis, date_trunc('hour', delivered_at) as hour,
    merchant_id, channel, market, warehouse_id, carrier,
    count(*) as orders,
    count(promised_delivery_at) as promised,
    count(*) filter (where delivered_at <= promised_delivery_at) as on_time,
    count(*) filter (where delivered_at <= promised_delivery_at and inaccurate_at is null) as otif,
    count(returned_at) as returned,
    count(inaccurate_at) as inaccurate,
    greatest(max(created_at), max(delivered_at), max(returned_at), max(inaccurate_at)) as settled_at
from rollup_orders
where delivered_at is not null and created_at is not null
  and (true or date_trunc('hour', delivered_at) in (select unnest([]::timestamptz[])))
group by all

union all

select
    'shipped', date_trunc('hour', shipped_at),
    merchant_id, channel, market, warehouse_id, carrier,
    count(*), 0, 0, 0,
    count(returned_at),
    count(inaccurate_at),
    greatest(max(created_at), max(shipped_at), max(returned_at), max(inaccurate_at))
from rollup_orders
where shipped_at is not null and created_at is not null
  and (true or date_trunc('hour', shipped_at) in (select unnest([]::timestamptz[])))
group by all;

insert into rollup_answers
with answers as (
    select 'nps' as survey, response_id, order_id, merchant_id, market, score, created_at
    from nps_responses
    where score between 0 and 10 and created_at is not null
      and (true or response_id in (select unnest([]::text[]))
           or order_id in (select unnest([]::text[])))
    union all
    select 'csat', response_id, order_id, merchant_id, market, score, created_at
    from csat_responses
    where score between 1 and 5 and created_at is not null
      and (true or response_id in (select unnest([]::text[]))
           or order_id in (select unnest([]::text[])))
)

select
    a.survey, a.response_id, a.order_id, a.score, a.created_at,
    coalesce(a.merchant_id, o.merchant_id) as merchant_id,
    o.channel,
    coalesce(a.market, o.market) as market,
    o.warehouse_id,
    o.carrier
from answers a
left join rollup_orders o on o.order_id = a.order_id
order by a.created_at;

insert into rollup_survey_hours
select
    survey, date_trunc('hour', created_at) as hour,
    merchant_id, channel, market, warehouse_id, carrier,
    count(*) as answers,
    count(*) filter (where score >= 9) as promoters,
    count(*) filter (where score <= 6) as detractors,
    count(*) filter (where score >= 4) as satisfied
from rollup_answers
where true
   or (survey = 'nps' and date_trunc('hour', created_at) in (select unnest([]::timestamptz[])))
   or (survey = 'csat' and date_trunc('hour', created_at) in (select unnest([]::timestamptz[])))
group by all;

insert into rollup_line_hours
select
    date_trunc('hour', o.created_at) as hour,
    l.sku, o.merchant_id, o.channel, o.market, o.warehouse_id,
    count(*) filter (where o.cancelled_at is null) as lines,
    coalesce(sum(l.quantity) filter (where o.cancelled_at is null), 0)::bigint as units,
    greatest(max(o.created_at), max(o.cancelled_at)) as settled_at
from order_lines l
join orders o using (order_id)
where o.created_at is not null
  and (true or date_trunc('hour', o.created_at) in (select unnest([]::timestamptz[])))
group by all;

insert into rollup_forecast_hours
select period_start, market, sum(units)
from forecasts
where period_start is not null and (true or period_start in (select unnest([]::timestamptz[])))
group by all;
