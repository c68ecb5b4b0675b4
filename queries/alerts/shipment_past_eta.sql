-- Rule shipment_past_eta: inbound shipments (stock on its way to a warehouse) past their ETA.
-- Grain: one row per inbound shipment still on its way as of $now — the shared shipment_state_at
-- macro (queries/schema/004_shared_macros.sql, the same one the "shipments past ETA" KPI reads):
-- created (else picked up) before $now, not delivered by then, tracking tag as of then (replayed
-- from its checkpoints) not Delivered — whose eta is older than $now minus $grace_hours; red once
-- $red_hours_late hours late. Expired trackings (no carrier news for 30 days) still count: the stock
-- has not arrived. Outbound parcels are many: they alert per lane (parcel_lanes).
-- Reading "as of" matters: the rule used the shipment's current delivery and tag, so evaluating any
-- earlier moment (the retro replay, a catch-up evaluation) skipped every shipment that was late
-- then but has arrived since; and one without a created_at was never judged at all.
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
        st.tag_as_of as tag,
        s.eta,
        s.po_id,
        epoch(params.now - s.eta) / 3600 as hours_late
    from shipment_state_at($now::timestamptz, null::text, null::text, null::text, null::text, null::text, null)
        as st
    inner join shipments as s using (shipment_id)
    cross join params
    where st.direction = 'inbound'
      and st.tag_as_of <> 'Delivered'
      and s.eta < params.now - to_seconds(params.grace_h * 3600)
),

final as (
    select
        case when l.hours_late >= params.red_h then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        l.shipment_id as entity_id,
        'Late inbound shipment ' || l.tracking_number || ' (' || l.carrier || '), '
            || floor(l.hours_late)::integer || ' h past ETA' as title,
        'tag ' || coalesce(l.tag, '?') || ', ETA ' || strftime(l.eta, '%Y-%m-%d %H:%M UTC')
            || coalesce(', for ' || l.po_id, '') as detail,
        l.hours_late as metric,
        case when l.hours_late >= params.red_h then params.red_h else params.grace_h end as threshold
    from late as l
    cross join params
)

select * from final
