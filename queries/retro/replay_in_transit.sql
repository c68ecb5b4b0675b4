-- replay_in_transit: shipments that were on their way at $at, each with its tracking status as of
-- then — the tag of its newest checkpoint at or before $at (Pending when none yet).
-- grain: one row per shipment created by $at and not delivered by then (delivered_at NULL or later),
--   whose status at $at is not Delivered / Expired.
-- params: at, merchant, channel (outbound shipments of matching orders only), market (order market,
--   else the warehouse's, else destination) (NULL = all)
-- returns: shipment_id, tracking_number, carrier, mode, direction, warehouse_id, tag (as of $at),
--   last_checkpoint_at, last_location, eta, past_eta (ETA before $at)
with params as (
    select
        $at::timestamptz as at,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market
),

last_checkpoint as (
    select e.shipment_id, e.tag, e.checkpoint_time, coalesce(e.location, e.city, e.country) as location
    from tracking_events e
    cross join params p
    where e.checkpoint_time <= p.at
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
        s.eta,
        s.eta < p.at as past_eta
    from shipments s
    cross join params p
    left join last_checkpoint c using (shipment_id)
    left join orders o on o.order_id = s.order_id
    left join warehouses w on w.warehouse_id = s.warehouse_id
    where coalesce(s.created_at, s.shipped_at) <= p.at
      and (s.delivered_at is null or s.delivered_at > p.at)
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or coalesce(o.market, w.market, s.destination_country) = p.market)
),

final as (
    select * from shipment_state
    where tag not in ('Delivered', 'Expired')
)

select * from final
order by direction, carrier, shipment_id
