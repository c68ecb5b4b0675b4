-- replay_in_transit: shipments that were on their way at $at, each with its tracking status as of
-- then — the tag of its newest checkpoint at or before $at (Pending when none yet).
-- grain: one row per shipment created by $at and not delivered by then (delivered_at NULL or later),
--   whose status at $at is not Delivered / Expired.
-- params: at, merchant, channel (outbound shipments of matching orders only), market (order market,
--   else the warehouse's, else destination) (NULL = all)
-- returns: shipment_id, tracking_number, carrier, mode, direction, warehouse_id, tag (as of $at),
--   last_checkpoint_at, last_location, eta, past_eta (ETA before $at)
-- eta: for an ocean container, its vessel's arrival at the final port call *as announced by $at*
--   (eta_known_at over the DCSA ETA history, 013_ocean_events); otherwise, and before the carrier
--   announced any, the shipment's stored ETA (the latest the tracking source gave).
with vessel_eta as (
    select equipment_reference, eta
    from eta_known_at($at::timestamptz)
    qualify row_number() over (partition by equipment_reference order by eta desc) = 1
),

last_checkpoint as (
    select e.shipment_id, e.tag, e.checkpoint_time, coalesce(e.location, e.city, e.country) as location
    from tracking_events e
    where e.checkpoint_time <= $at::timestamptz
    qualify row_number() over (
        partition by e.shipment_id order by e.checkpoint_time desc, e.created_at desc, e.tag
    ) = 1
),

shipment_state as (
    select
        s.shipment_id, s.tracking_number, s.carrier, s.mode, s.direction, s.warehouse_id,
        coalesce(c.tag, 'Pending') as tag,
        c.checkpoint_time as last_checkpoint_at,
        c.location as last_location,
        coalesce(v.eta, s.eta) as eta,
        coalesce(v.eta, s.eta) < $at::timestamptz as past_eta
    from shipments s
    left join last_checkpoint c using (shipment_id)
    left join vessel_eta v on v.equipment_reference = s.tracking_number and s.direction = 'inbound'
    left join orders o on o.order_id = s.order_id
    left join warehouses w on w.warehouse_id = s.warehouse_id
    where coalesce(s.created_at, s.shipped_at) <= $at::timestamptz
      and (s.delivered_at is null or s.delivered_at > $at::timestamptz)
      and ($merchant::text is null or o.merchant_id = $merchant::text)
      and ($channel::text is null or o.channel = $channel::text)
      and ($market::text is null or coalesce(o.market, w.market, s.destination_country) = $market::text)
),

final as (
    select * from shipment_state
    where tag not in ('Delivered', 'Expired')
)

select * from final
order by direction, carrier, shipment_id
