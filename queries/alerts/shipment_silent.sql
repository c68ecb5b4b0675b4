-- Rule shipment_silent: shipments in transit with no tracking update for too long.
-- Grain: shipments that have been picked up (tag InTransit, OutForDelivery, AvailableForPickup or
-- AttemptFail), are not delivered, and whose newest checkpoint is older than the per-mode
-- threshold: $yellow_hours, $red_hours (JSON objects keyed by mode — sea, air, express, truck —
-- with a "default"; sea legs scan rarely, so they get longer). Inbound shipments one row each:
-- yellow past $yellow_hours, red past $red_hours. Outbound parcels grouped by lane (carrier ×
-- destination country, entity_id 'carrier:country'): yellow with $lane_min_parcels silent, red with
-- $lane_red_parcels. metric = hours since the last checkpoint (shipment) or silent parcels (lane);
-- threshold = the crossed one.
-- Params: $now, $yellow_hours, $red_hours, $lane_min_parcels, $lane_red_parcels.
with params as (
    select
        $now::timestamptz as now,
        $lane_min_parcels::integer as lane_min,
        $lane_red_parcels::integer as lane_red
),

quiet as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.direction,
        coalesce(s.destination_country, '?') as country,
        s.mode,
        s.tag,
        coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at) as last_news_at,
        epoch(params.now - coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at)) / 3600
            as silent_h,
        coalesce(
            json_extract($yellow_hours, '$.' || s.mode)::double,
            json_extract($yellow_hours, '$.default')::double
        ) as yellow_h,
        coalesce(
            json_extract($red_hours, '$.' || s.mode)::double,
            json_extract($red_hours, '$.default')::double
        ) as red_h
    from shipments as s
    cross join params
    where s.tag in ('InTransit', 'OutForDelivery', 'AvailableForPickup', 'AttemptFail')
      and s.delivered_at is null
      and s.created_at <= params.now
),

inbound as (
    select
        case when silent_h >= red_h then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        shipment_id as entity_id,
        'No tracking update for ' || round(silent_h) || ' h: ' || tracking_number
            || ' (' || carrier || ')' as title,
        coalesce(mode, '?') || ' shipment, tag ' || tag || ', last checkpoint '
            || strftime(last_news_at, '%Y-%m-%d %H:%M UTC') as detail,
        silent_h as metric,
        case when silent_h >= red_h then red_h else yellow_h end as threshold
    from quiet
    where direction = 'inbound'
      and silent_h >= yellow_h
),

lanes as (
    select
        carrier,
        country,
        count(*) as parcels,
        max(silent_h) as longest_h,
        list(tracking_number || ' ' || round(silent_h) || ' h' order by silent_h desc)[1:3] as longest
    from quiet
    where direction = 'outbound'
      and silent_h >= yellow_h
    group by all
),

outbound as (
    select
        case when n.parcels >= params.lane_red then 'red' else 'yellow' end as severity,
        'lane' as entity_type,
        n.carrier || ':' || n.country as entity_id,
        n.parcels || ' parcel(s) without tracking update ' || n.carrier || ' → ' || n.country
            || ', longest ' || round(n.longest_h) || ' h' as title,
        'silent longest: ' || array_to_string(n.longest, ', ')
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
