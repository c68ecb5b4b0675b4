-- Rule shipment_silent: inbound shipments in transit with no tracking update for too long.
-- Grain: one row per inbound shipment that has been picked up (tag InTransit, OutForDelivery,
-- AvailableForPickup or AttemptFail), is not delivered, and whose newest checkpoint is older than
-- the per-mode threshold: yellow after $yellow_hours, red after $red_hours (JSON objects keyed by
-- mode — sea, air, express, truck — with a "default"; sea legs scan rarely, so they get longer).
-- Outbound parcels alert per lane (parcel_lanes).
-- metric = hours since the last checkpoint; threshold = hours (the crossed one).
-- Params: $now, $yellow_hours, $red_hours.
with quiet as (
    select
        s.shipment_id,
        s.tracking_number,
        s.carrier,
        s.mode,
        s.tag,
        coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at) as last_news_at,
        epoch($now::timestamptz - coalesce(s.last_checkpoint_at, s.shipped_at, s.created_at)) / 3600
            as silent_h,
        threshold_for($yellow_hours, s.mode) as yellow_h,   -- 009_shared_query_macros.sql
        threshold_for($red_hours, s.mode) as red_h
    from shipments as s
    where s.direction = 'inbound'
      and s.tag in ('InTransit', 'OutForDelivery', 'AvailableForPickup', 'AttemptFail')
      and s.delivered_at is null
      and s.created_at <= $now::timestamptz
),

final as (
    select
        case when silent_h >= red_h then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        shipment_id as entity_id,
        'No tracking update for ' || floor(silent_h)::integer || ' h: ' || tracking_number
            || ' (' || carrier || ')' as title,
        coalesce(mode, '?') || ' shipment, tag ' || tag || ', last checkpoint '
            || strftime(last_news_at, '%Y-%m-%d %H:%M UTC') as detail,
        silent_h as metric,
        case when silent_h >= red_h then red_h else yellow_h end as threshold
    from quiet
    where silent_h >= yellow_h
)

select * from final
