-- Rule shipment_exception: inbound shipments the carrier reports in trouble.
-- Grain: one row per inbound shipment whose current AfterShip tag is Exception (red when the subtag says
-- lost, damaged, returning or returned: Exception_010 … _013; yellow otherwise) or AttemptFail
-- (yellow), with its last checkpoint within the last $lookback_hours hours (older ones are left
-- to the carrier claim process). Outbound parcels alert per lane (parcel_lanes).
-- metric = hours since the last checkpoint; threshold = 0.
-- Params: $now, $lookback_hours.
with params as (
    select $now::timestamptz as now, $lookback_hours::double as lookback_h
),

troubled as (
    select
        s.*,
        coalesce(s.last_checkpoint_at, s.updated_at) as last_news_at,
        s.tag = 'Exception'
            and coalesce(s.subtag, '') in ('Exception_010', 'Exception_011', 'Exception_012', 'Exception_013')
            as serious
    from shipments as s
    cross join params
    where s.direction = 'inbound'
      and s.tag in ('Exception', 'AttemptFail')
      and s.delivered_at is null
      and s.created_at <= params.now
      and coalesce(s.last_checkpoint_at, s.updated_at)
          > params.now - to_seconds(params.lookback_h * 3600)
),

final as (
    select
        case when t.serious then 'red' else 'yellow' end as severity,
        'shipment' as entity_type,
        t.shipment_id as entity_id,
        'Carrier ' || t.tag || ': ' || t.tracking_number || ' (' || t.carrier || ')' as title,
        coalesce(t.subtag, t.tag) || coalesce(', PO ' || t.po_id, '') as detail,
        greatest(epoch(params.now - t.last_news_at) / 3600, 0) as metric,
        0::double as threshold
    from troubled as t
    cross join params
)

select * from final
