-- Map: shipments not yet delivered, at their last known position, with where they came from and go to.
-- Grain: one row per shipment (tag not Delivered/Expired, no delivered_at, created by $now) with a position.
-- Position (lat/lon, degrees): shipments.last_lat/last_lon, else the newest tracking event with a coordinate.
-- Origin: inbound, the first checkpoint with a coordinate, else the PO's supplier; outbound, the
--   shipping warehouse, else the first checkpoint. Destination: the warehouse for inbound shipments;
--   outbound parcels have only destination_city/destination_country (text), so dest_lat/dest_lon are
--   null here and the page geocodes them offline (connectors/geocode.py).
-- Flags: is_delayed = eta before $now; is_exception = tag Exception or AttemptFail; hours_late (h).
-- Filters: $market (order market, else the warehouse's market), $merchant/$channel (outbound orders;
--   inbound stock serves every merchant, so inbound shipments always show). The window does not apply:
--   the map is the state at $now.
-- Params: now, merchant, channel, market (NULL = all).
with open_shipments as (
    select s.*
    from shipments as s
    where s.delivered_at is null
      and coalesce(s.tag, '') not in ('Delivered', 'Expired')
      and (s.created_at is null or s.created_at <= $now::timestamptz)
),

located_events as (
    select e.shipment_id, e.checkpoint_time, e.lat, e.lon, e.location
    from tracking_events as e
    where e.lat is not null and e.lon is not null and e.checkpoint_time <= $now::timestamptz
),

last_fix as (
    select * from located_events
    qualify row_number() over (partition by shipment_id order by checkpoint_time desc) = 1
),

first_fix as (
    select * from located_events
    qualify row_number() over (partition by shipment_id order by checkpoint_time asc) = 1
),

joined as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.mode,
        s.direction,
        s.tag,
        s.subtag,
        s.eta,
        s.po_id,
        s.order_id,
        s.warehouse_id,
        s.last_checkpoint_at,
        coalesce(o.market, w.market) as market,
        o.merchant_id,
        o.channel,
        case when s.last_lat is not null and s.last_lon is not null then s.last_lat else lf.lat end as lat,
        case when s.last_lat is not null and s.last_lon is not null then s.last_lon else lf.lon end as lon,
        lf.location as last_location,
        case when s.direction = 'outbound' and w.lat is not null and w.lon is not null then w.lat
             else coalesce(ff.lat, case when s.direction = 'inbound' then sup.lat else w.lat end) end as origin_lat,
        case when s.direction = 'outbound' and w.lat is not null and w.lon is not null then w.lon
             else coalesce(ff.lon, case when s.direction = 'inbound' then sup.lon else w.lon end) end as origin_lon,
        s.destination_city,
        s.destination_country,
        case when s.direction = 'inbound' then w.lat end as dest_lat,
        case when s.direction = 'inbound' then w.lon end as dest_lon,
        coalesce(s.eta < $now::timestamptz, false) as is_delayed,
        coalesce(s.tag in ('Exception', 'AttemptFail'), false) as is_exception,
        case when s.eta < $now::timestamptz then date_diff('minute', s.eta, $now::timestamptz) / 60.0 end
            as hours_late
    from open_shipments as s
    left join last_fix as lf using (shipment_id)
    left join first_fix as ff using (shipment_id)
    left join warehouses as w on w.warehouse_id = s.warehouse_id
    left join purchase_orders as po on po.po_id = s.po_id
    left join suppliers as sup on sup.supplier_id = po.supplier_id
    left join orders as o on o.order_id = s.order_id
),

final as (
    select j.*
    from joined as j
    where j.lat is not null and j.lon is not null
      and ($market::text is null or j.market = $market::text)
      and ($merchant::text is null or j.merchant_id is null or j.merchant_id = $merchant::text)
      and ($channel::text is null or j.channel is null or j.channel = $channel::text)
)

select * from final
order by is_exception desc, is_delayed desc, hours_late desc nulls last, shipment_id
