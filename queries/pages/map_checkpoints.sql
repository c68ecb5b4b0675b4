-- Map: the checkpoint timeline of one shipment ($shipment_id), oldest first, up to $now.
-- Grain: one row per tracking event. checkpoint_time is UTC; lat/lon in degrees (null when the carrier
-- sent no coordinate); hours_since_previous (h) is the gap to the checkpoint before it.
-- Params: start, end, now, merchant, channel, market (only now applies), shipment_id.
with params as (
    select
        $start::timestamptz as window_start,
        $end::timestamptz   as window_end,
        $now::timestamptz   as as_of,
        $merchant::text     as merchant,
        $channel::text      as channel,
        $market::text       as market,
        $shipment_id::text  as shipment_id
),

events as (
    select e.checkpoint_time, e.tag, e.subtag, e.message, e.location, e.city, e.country, e.lat, e.lon
    from tracking_events as e
    cross join params as p
    where e.shipment_id = p.shipment_id
      and e.checkpoint_time <= p.as_of
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
