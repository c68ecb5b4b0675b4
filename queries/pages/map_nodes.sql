-- Map: ports, airports and hubs with their congestion status (normal | congested | closed | unknown).
-- Grain: one row per node with a coordinate (lat/lon in degrees). Current state: the shared
-- filters do not narrow infrastructure (a congested port matters to every market).
-- Params: start, end, now, merchant, channel, market (bound for the shared convention, unused).
with params as (
    -- bound for the shared convention; no filter applies to infrastructure
    select
        $start::timestamptz as window_start,
        $end::timestamptz   as window_end,
        $now::timestamptz   as as_of,
        $merchant::text     as merchant,
        $channel::text      as channel,
        $market::text       as market
),

final as (
    select n.node_id, n.name, n.kind, n.country, n.lat, n.lon,
           coalesce(n.status, 'unknown') as status, n.updated_at
    from nodes as n
    where n.lat is not null and n.lon is not null
)

select * from final
order by node_id
