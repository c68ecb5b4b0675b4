-- name: intransit_status_mix
-- label: In-transit status mix
-- label_zh: 在途状态分布
-- definition: Shipments not yet delivered, grouped by their tracking tag as of the moment (the tag of
--   the newest checkpoint before it), split inbound / outbound.
-- grain: one row per AfterShip tag; shipments in transit at min(end, now)
-- params: start (unused: a state), end, now, merchant, channel (outbound shipments of matching
--   orders only), market (order market, else the warehouse's, else destination) (NULL = all)
-- returns: tag, shipments, inbound, outbound, past_eta (not delivered with the ETA behind us),
--   share_pct (of all shipments in transit)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text as merchant,
        $channel::text  as channel,
        $market::text   as market
),

last_checkpoint as (
    select e.shipment_id, e.tag
    from tracking_events e
    cross join params p
    where e.checkpoint_time < p.as_of
    qualify row_number() over (
        partition by e.shipment_id order by e.checkpoint_time desc, e.created_at desc, e.tag
    ) = 1
),

in_transit as (
    select
        s.direction,
        s.eta < p.as_of as past_eta,
        coalesce(c.tag, case when s.updated_at < p.as_of then s.tag end, 'Pending') as tag
    from shipments s
    cross join params p
    left join last_checkpoint c using (shipment_id)
    left join orders o on o.order_id = s.order_id
    left join warehouses w on w.warehouse_id = s.warehouse_id
    where coalesce(s.created_at, s.shipped_at) < p.as_of
      and (s.delivered_at is null or s.delivered_at >= p.as_of)
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or coalesce(o.market, w.market, s.destination_country) = p.market)
),

final as (
    select
        tag,
        count(*) as shipments,
        count(*) filter (where direction = 'inbound') as inbound,
        count(*) filter (where direction = 'outbound') as outbound,
        count(*) filter (where past_eta) as past_eta,
        100.0 * count(*) / sum(count(*)) over () as share_pct
    from in_transit
    where tag not in ('Delivered', 'Expired')
    group by tag
)

select * from final order by shipments desc, tag
