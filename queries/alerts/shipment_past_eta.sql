-- Rule shipment_past_eta: inbound shipments (stock on its way to a warehouse) past their ETA.
-- Grain: one row per inbound shipment not delivered, with eta older than $now minus $grace_hours;
-- red once $red_hours_late hours late. Shipments created after $now are ignored.
-- Outbound parcels are many: they alert per lane (parcel_lanes).
-- metric = hours past ETA; threshold = hours (the crossed one).
-- Params: $now, $grace_hours, $red_hours_late.
with params as (
    select $now::timestamptz as now, $grace_hours::double as grace_h, $red_hours_late::double as red_h
),

late as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.tag,
        s.eta,
        s.po_id,
        epoch(params.now - s.eta) / 3600 as hours_late
    from shipments as s
    cross join params
    where s.direction = 'inbound'
      and s.delivered_at is null
      and coalesce(s.tag, '') <> 'Delivered'
      and s.eta is not null
      and s.created_at <= params.now
      and s.eta < params.now - to_seconds(params.grace_h * 3600)
),

final as (
    select
        case when l.hours_late >= params.red_h then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        l.shipment_id as entity_id,
        'Late inbound shipment ' || l.tracking_number || ' (' || l.carrier || '), '
            || round(l.hours_late) || ' h past ETA' as title,
        'tag ' || coalesce(l.tag, '?') || ', ETA ' || strftime(l.eta, '%Y-%m-%d %H:%M UTC')
            || coalesce(', for ' || l.po_id, '') as detail,
        l.hours_late as metric,
        case when l.hours_late >= params.red_h then params.red_h else params.grace_h end as threshold
    from late as l
    cross join params
)

select * from final
