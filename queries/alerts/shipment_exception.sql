-- Rule shipment_exception: shipments the carrier reports in trouble.
-- Grain: shipments whose current AfterShip tag is Exception or AttemptFail, not delivered, with
-- their last checkpoint within the last $lookback_hours hours (older ones are left to the carrier
-- claim process). Inbound shipments one row each: red when the subtag says lost, damaged,
-- returning or returned (Exception_010 … _013), yellow otherwise. Outbound parcels grouped by lane
-- (carrier × destination country, entity_id 'carrier:country'): yellow with $lane_min_parcels in
-- trouble, red with $lane_red_parcels. metric = hours since the last checkpoint (shipment) or
-- parcels in trouble (lane); threshold = 0 (shipment) or the crossed parcel count (lane).
-- Params: $now, $lookback_hours, $lane_min_parcels, $lane_red_parcels.
with params as (
    select
        $now::timestamptz as now,
        $lookback_hours::double as lookback_h,
        $lane_min_parcels::integer as lane_min,
        $lane_red_parcels::integer as lane_red
),

troubled as (
    select
        s.*,
        coalesce(s.destination_country, '?') as country,
        coalesce(s.last_checkpoint_at, s.updated_at) as last_news_at,
        s.tag = 'Exception'
            and coalesce(s.subtag, '') in ('Exception_010', 'Exception_011', 'Exception_012', 'Exception_013')
            as serious
    from shipments as s
    cross join params
    where s.tag in ('Exception', 'AttemptFail')
      and s.delivered_at is null
      and s.created_at <= params.now
      and coalesce(s.last_checkpoint_at, s.updated_at)
          > params.now - to_seconds(params.lookback_h * 3600)
),

inbound as (
    select
        case when t.serious then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        t.shipment_id as entity_id,
        'Carrier ' || t.tag || ': ' || t.tracking_number || ' (' || t.carrier || ')' as title,
        coalesce(t.subtag, t.tag) || ', inbound' || coalesce(', PO ' || t.po_id, '') as detail,
        greatest(epoch(params.now - t.last_news_at) / 3600, 0) as metric,
        0::double as threshold
    from troubled as t
    cross join params
    where t.direction = 'inbound'
),

lanes as (
    select
        carrier,
        country,
        count(*) as parcels,
        count(*) filter (where serious) as serious,
        list(tracking_number || ' ' || coalesce(subtag, tag) order by last_news_at desc)[1:3] as newest
    from troubled
    where direction = 'outbound'
    group by all
),

outbound as (
    select
        case when n.parcels >= params.lane_red then 'red' else 'yellow' end as severity,
        'lane' as entity_type,
        n.carrier || ':' || n.country as entity_id,
        n.parcels || ' parcel(s) in carrier exception ' || n.carrier || ' → ' || n.country as title,
        n.serious || ' lost, damaged or returning; newest: ' || array_to_string(n.newest, ', ')
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
