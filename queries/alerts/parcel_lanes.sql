-- Rule parcel_lanes: outbound parcels in trouble, one alert per lane (carrier × destination country).
-- Parcels are many and cheap: one late parcel is customer service's, several on one lane are the war
-- room's. A parcel not delivered and created by $now is in trouble when it is late (past the
-- customer's promised delivery, else its ETA + $grace_hours), in carrier exception (tag Exception or
-- AttemptFail, news within $lookback_hours), or silent (picked up, no checkpoint for $silent_hours, a
-- JSON object keyed by mode with a "default").
-- Grain: one row per lane (entity_id 'carrier:country', carrier slug in lower case and country code
-- in upper case, trimmed: "DHL " and "dhl" are one lane, one alert) with at least $lane_min_parcels parcels in
-- trouble (yellow); red with $lane_red_parcels. metric = parcels in trouble; threshold = the crossed
-- count. Inbound shipments alert one by one (shipment_past_eta, shipment_exception, shipment_silent).
-- Params: $now, $grace_hours, $lookback_hours, $silent_hours, $lane_min_parcels, $lane_red_parcels.
with parcels as (
    select
        s.tracking_number,
        lower(trim(s.carrier)) as carrier,
        upper(trim(coalesce(s.destination_country, '?'))) as country,
        coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at) as last_news_at,
        $now::timestamptz > coalesce(s.promised_delivery_at, s.eta + to_seconds($grace_hours::double * 3600))
            as late,
        s.tag in ('Exception', 'AttemptFail')
            and coalesce(s.last_checkpoint_at, s.updated_at)
                > $now::timestamptz - to_seconds($lookback_hours::double * 3600)
            as troubled,
        s.tag in ('InTransit', 'OutForDelivery', 'AvailableForPickup', 'AttemptFail')
            and epoch($now::timestamptz - coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at)) / 3600
                >= coalesce(json_extract($silent_hours, '$.' || s.mode), json_extract($silent_hours, '$.default'))::double
            as silent
    from shipments as s
    where s.direction = 'outbound'
      and s.delivered_at is null
      and coalesce(s.tag, '') <> 'Delivered'
      and s.created_at <= $now::timestamptz
),

lanes as (
    select
        carrier,
        country,
        count(*) as parcels,
        count(*) filter (where late) as late,
        count(*) filter (where troubled) as in_exception,
        count(*) filter (where silent) as silent,
        list(tracking_number order by last_news_at)[1:3] as oldest_news
    from parcels
    where coalesce(late, false) or coalesce(troubled, false) or coalesce(silent, false)
    group by all
),

final as (
    select
        case when n.parcels >= $lane_red_parcels::integer then 'red' else 'yellow' end as severity,
        'lane' as entity_type,
        n.carrier || ':' || n.country as entity_id,
        n.parcels || ' parcels in trouble ' || n.carrier || ' → ' || n.country as title,
        n.late || ' past the promised delivery, ' || n.in_exception || ' in carrier exception, '
            || n.silent || ' without a scan; e.g. ' || array_to_string(n.oldest_news, ', ') as detail,
        n.parcels::double as metric,
        case when n.parcels >= $lane_red_parcels::integer then $lane_red_parcels::integer
             else $lane_min_parcels::integer end::double as threshold
    from lanes as n
    where n.parcels >= $lane_min_parcels::integer
)

select * from final
