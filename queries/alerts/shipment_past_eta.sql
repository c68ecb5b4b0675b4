-- Rule shipment_past_eta: shipments not delivered past the date they were due.
-- Grain: inbound shipments (purchase orders on their way to a warehouse) one row each, when the
-- carrier's ETA is more than $grace_hours old. Outbound parcels are many and cheap, so they are
-- grouped by lane (carrier × destination country, entity_id 'carrier:country'): a parcel is late
-- once past the customer's promised delivery (else its ETA + $grace_hours), and a lane fires with
-- at least $lane_min_parcels late parcels (one late parcel is customer service's, not the war
-- room's). Red once a shipment is $red_hours_late hours late, or a lane has $lane_red_parcels.
-- Shipments created after $now are ignored.
-- metric = hours late (shipment) or late parcels (lane); threshold = the crossed one.
-- Params: $now, $grace_hours, $red_hours_late, $lane_min_parcels, $lane_red_parcels.
with params as (
    select
        $now::timestamptz as now,
        $grace_hours::double as grace_h,
        $red_hours_late::double as red_h,
        $lane_min_parcels::integer as lane_min,
        $lane_red_parcels::integer as lane_red
),

late as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.direction,
        coalesce(s.destination_country, '?') as country,
        s.tag,
        s.eta,
        s.po_id,
        epoch(params.now - s.eta) / 3600 as hours_past_eta,
        epoch(params.now - coalesce(s.promised_delivery_at, s.eta + to_seconds(params.grace_h * 3600)))
            / 3600 as hours_past_promise
    from shipments as s
    cross join params
    where s.delivered_at is null
      and coalesce(s.tag, '') <> 'Delivered'
      and s.created_at <= params.now
),

inbound as (
    select
        case when l.hours_past_eta >= params.red_h then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        l.shipment_id as entity_id,
        'Late inbound shipment ' || l.tracking_number || ' (' || l.carrier || '), '
            || round(l.hours_past_eta) || ' h past ETA' as title,
        'tag ' || coalesce(l.tag, '?') || ', ETA ' || strftime(l.eta, '%Y-%m-%d %H:%M UTC')
            || coalesce(', for ' || l.po_id, '') as detail,
        l.hours_past_eta as metric,
        case when l.hours_past_eta >= params.red_h then params.red_h else params.grace_h end as threshold
    from late as l
    cross join params
    where l.direction = 'inbound'
      and l.hours_past_eta > params.grace_h
),

lanes as (
    select
        l.carrier,
        l.country,
        count(*) as parcels,
        max(l.hours_past_promise) as worst_h,
        list(l.tracking_number || ' ' || round(l.hours_past_promise) || ' h'
             order by l.hours_past_promise desc)[1:3] as worst
    from late as l
    where l.direction = 'outbound'
      and l.hours_past_promise > 0
    group by all
),

outbound as (
    select
        case when n.parcels >= params.lane_red then 'red' else 'yellow' end as severity,
        'lane' as entity_type,
        n.carrier || ':' || n.country as entity_id,
        n.parcels || ' late parcel(s) ' || n.carrier || ' → ' || n.country
            || ', worst ' || round(n.worst_h) || ' h past promise' as title,
        'past the promised delivery: ' || array_to_string(n.worst, ', ')
            || case when n.parcels > 3 then ', …' else '' end as detail,
        n.parcels::double as metric,
        case when n.parcels >= params.lane_red then params.lane_red else params.lane_min end::double
            as threshold
    from lanes as n
    cross join params
    where n.parcels >= params.lane_min
)

select * from inbound
union all
select * from outbound
