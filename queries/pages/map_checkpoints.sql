-- Map: the checkpoint timeline of one shipment ($shipment_id), oldest first, up to $now.
-- Grain: one row per tracking event. checkpoint_time is UTC; lat/lon in degrees (null when the carrier
-- sent no coordinate); hours_since_previous (h) is the gap to the checkpoint before it.
-- Params: now, shipment_id (the window and the shared filters do not apply).
with events as (
    select e.checkpoint_time, e.tag, e.subtag, e.message, e.location, e.city, e.country, e.lat, e.lon
    from tracking_events as e
    where e.shipment_id = $shipment_id::text
      and e.checkpoint_time <= $now::timestamptz
),

final as (
    select
        *,
        date_diff('minute', lag(checkpoint_time) over (order by checkpoint_time), checkpoint_time) / 60.0
            as hours_since_previous
    from events
)

select * from final
order by checkpoint_time
