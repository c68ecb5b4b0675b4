-- name: shipments_past_eta
-- label: Shipments past ETA
-- label_zh: 超过预计到达时间的货件
-- definition: Shipments (inbound and outbound) still not delivered whose latest ETA is already
--   behind us: the transit-delay count.
-- definition_zh: 尚未送达且最新预计到达时间已过的货件数（入库和出库），即运输延误数。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- params: start (unused: a state), end, now, merchant, channel, market, warehouse, carrier (NULL = all;
--   merchant and channel keep only outbound shipments of matching orders)
-- returns: value (shipments, NULL when nothing is in transit), n (shipments in transit)
-- caveat: eta is the latest estimate known (the shipments table keeps only the newest)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- declared for the shared contract: a state, not a window
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $warehouse::text as warehouse,
        $carrier::text   as carrier
),

-- the newest checkpoint recorded before as_of gives the shipment's tag at that moment (replay)
last_checkpoint as (
    select e.shipment_id, e.tag, e.checkpoint_time
    from tracking_events e
    cross join params p
    where e.checkpoint_time < p.as_of
    qualify row_number() over (
        partition by e.shipment_id order by e.checkpoint_time desc, e.created_at desc, e.tag
    ) = 1
),

shipment_state as (
    select
        s.shipment_id,
        s.eta,
        coalesce(c.tag, case when s.updated_at < p.as_of then s.tag end, 'Pending') as tag_as_of,
        coalesce(
            c.checkpoint_time,
            case when s.last_checkpoint_at < p.as_of then s.last_checkpoint_at end,
            coalesce(s.created_at, s.shipped_at)
        ) as last_activity_at,
        p.as_of
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
      and (p.warehouse is null or s.warehouse_id = p.warehouse)
      and (p.carrier is null or s.carrier = p.carrier)
),

in_transit as (
    select * from shipment_state
    where tag_as_of not in ('Delivered', 'Expired')
),

final as (
    select
        case when count(*) > 0 then count(*) filter (where eta < as_of) end as value,
        count(*) as n
    from in_transit
)

select * from final
