-- Rule node_congested: a port, airport or hub that is congested (yellow) or closed (red).
-- Grain: one row per node whose current status is not normal. metric = inbound shipments in
-- transit from that node's country (the exposure); threshold = 0.
-- Params: $now.
with exposure as (
    select origin_country as country, count(*) as in_transit
    from shipments
    where direction = 'inbound'
      and delivered_at is null
      and tag in ('InfoReceived', 'InTransit')
      and created_at <= $now
    group by all
),

final as (
    select
        case when n.status = 'closed' then 'red' else 'yellow' end as severity,
        'node' as entity_type,
        n.node_id as entity_id,
        n.kind || ' ' || coalesce(n.name, n.node_id) || ' is ' || n.status as title,
        coalesce(e.in_transit, 0) || ' inbound shipments in transit from ' || coalesce(n.country, '?')
            as detail,
        coalesce(e.in_transit, 0)::double as metric,
        0::double as threshold
    from nodes as n
    left join exposure as e using (country)
    where coalesce(n.status, 'normal') not in ('normal', '')
)

select * from final
