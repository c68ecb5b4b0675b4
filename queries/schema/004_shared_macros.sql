-- Shared table macros: the "state as of a moment" logic several KPI, alert and page queries need.
-- Each macro is the one definition of that logic; the query files select from it and add only their
-- own aggregate, filter or order. Arguments are values, not column names (NULL filter = all); the
-- caller casts them (`$end::timestamptz`, `$market::text`) so the types are fixed at the call.
-- Parameters are prefixed (at_ts, *_filter) so they can never shadow a column inside the body.


-- ─── shipments in flight ─────────────────────────────────────────────────────────────────────────
-- shipment_state_at(at_ts, merchant_filter, channel_filter, market_filter, warehouse_filter,
--   carrier_filter): one row per shipment (inbound and outbound) created before at_ts and not
--   delivered by then, with its tracking tag and last activity as of at_ts (replays from
--   tracking_events, so "as of 10:00" is what we knew at 10:00). Merchant and channel keep only
--   outbound shipments of matching orders; market is the order's, else the warehouse's, else the
--   destination country. Rows tagged Delivered/Expired as of at_ts are still returned: callers keep
--   what they count as in transit.
-- Columns: shipment_id, direction, eta, tag_as_of, last_activity_at (newest checkpoint before at_ts,
--   else creation), as_of (= at_ts).
create or replace macro shipment_state_at(
    at_ts, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter
) as table
with last_checkpoint as (
    -- the newest checkpoint recorded before at_ts gives the shipment's tag at that moment
    select e.shipment_id, e.tag, e.checkpoint_time
    from tracking_events e
    where e.checkpoint_time < at_ts
    qualify row_number() over (
        partition by e.shipment_id order by e.checkpoint_time desc, e.created_at desc, e.tag
    ) = 1
)
select
    s.shipment_id,
    s.direction,
    s.eta,
    coalesce(c.tag, case when s.updated_at < at_ts then s.tag end, 'Pending') as tag_as_of,
    coalesce(
        c.checkpoint_time,
        case when s.last_checkpoint_at < at_ts then s.last_checkpoint_at end,
        coalesce(s.created_at, s.shipped_at)
    ) as last_activity_at,
    at_ts as as_of
from shipments s
left join last_checkpoint c using (shipment_id)
left join orders o on o.order_id = s.order_id
left join warehouses w on w.warehouse_id = s.warehouse_id
where coalesce(s.created_at, s.shipped_at) < at_ts
  and (s.delivered_at is null or s.delivered_at >= at_ts)
  and (merchant_filter is null or o.merchant_id = merchant_filter)
  and (channel_filter is null or o.channel = channel_filter)
  and (market_filter is null or coalesce(o.market, w.market, s.destination_country) = market_filter)
  and (warehouse_filter is null or s.warehouse_id = warehouse_filter)
  and (carrier_filter is null or s.carrier = carrier_filter);


-- ─── stock health ────────────────────────────────────────────────────────────────────────────────
-- stock_health_at(at_ts, market_filter): one row per sku × warehouse with a stock observation
-- before at_ts (market = the warehouse's, NULL = all). Units available against the safety / warning /
-- limit watermarks, cover and runway at the current pace, and what is on its way; the column
-- definitions are in the header of queries/kpi/stock_health.sql.
-- Columns: sku, sku_name, sku_class, warehouse_id, warehouse_name, market, available, observed_at,
--   safety_qty, warning_qty, limit_qty, cover_days, units_sold_7d, units_per_hour, days_of_supply,
--   hours_to_stockout, inbound_qty, inbound_in_transit_qty, next_inbound_eta, next_po_ship_date,
--   status (red | yellow | over | green). Unordered.
create or replace macro stock_health_at(at_ts, market_filter) as table
with stock_as_of as (
    -- latest observation before at_ts per pair (history, so "as of 10:00" replays)
    select o.sku, o.warehouse_id, o.available, o.observed_at
    from stock_observations o
    left join warehouses w using (warehouse_id)
    where o.observed_at < at_ts
      and (market_filter is null or w.market = market_filter)
    qualify row_number() over (partition by o.sku, o.warehouse_id order by o.observed_at desc) = 1
),

-- units sold per sku × fulfilling warehouse: last 7 days (cover) and last 4 hours (pace)
sales as (
    select
        l.sku,
        o.warehouse_id,
        sum(l.quantity) as units_7d,
        coalesce(sum(l.quantity) filter (where o.created_at >= at_ts - interval 4 hour), 0)
            as units_4h
    from order_lines l
    join orders o using (order_id)
    where o.created_at >= at_ts - interval 7 day
      and o.created_at < at_ts
      and (o.cancelled_at is null or o.cancelled_at >= at_ts)
    group by all
),

-- inbound: POs not cancelled/closed whose goods have not arrived by at_ts
arrived_pos as (
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
        w.market,
        s.available,
        s.observed_at,
        sp.safety_qty,
        sp.warning_qty,
        sp.limit_qty,
        -- planned cover by class (DESIGN §1): core 45 d, potential 30 d, long tail 15 d
        case k.sku_class when 'core' then 45 when 'potential' then 30 when 'long_tail' then 15
            else 30 end as cover_days,
        coalesce(x.units_7d, 0)::bigint as units_sold_7d,
        coalesce(x.units_4h, 0) / 4.0 as units_per_hour,
        greatest(s.available, 0) / nullif(coalesce(x.units_7d, 0) / 7.0, 0) as days_of_supply,
        case
            when s.available <= 0 then 0.0
            when coalesce(x.units_4h, 0) > 0 then s.available / (x.units_4h / 4.0)
        end as hours_to_stockout,
        coalesce(i.inbound_qty, 0)::bigint as inbound_qty,
        coalesce(i.inbound_in_transit_qty, 0)::bigint as inbound_in_transit_qty,
        i.next_inbound_eta,
        i.next_po_ship_date
    from stock_as_of s
    left join skus k using (sku)
    left join warehouses w using (warehouse_id)
    left join stock_policies sp using (sku, warehouse_id)
    left join sales x using (sku, warehouse_id)
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


-- ─── orders delivered in a window ───────────────────────────────────────────────────────────────
-- orders_delivered_between(from_ts, to_ts, merchant_filter, channel_filter, market_filter,
--   warehouse_filter, carrier_filter): the orders_with_delivery rows whose delivery falls in
--   [from_ts, to_ts), narrowed by the filters (NULL = all). Callers add what their KPI needs
--   (a promised date, a creation time) and aggregate.
create or replace macro orders_delivered_between(
    from_ts, to_ts, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter
) as table
select o.*
from orders_with_delivery o
where o.delivered_at >= from_ts
  and o.delivered_at < to_ts
  and (merchant_filter is null or o.merchant_id = merchant_filter)
  and (channel_filter is null or o.channel = channel_filter)
  and (market_filter is null or o.market = market_filter)
  and (warehouse_filter is null or o.warehouse_id = warehouse_filter)
  and (carrier_filter is null or o.carrier = carrier_filter);
