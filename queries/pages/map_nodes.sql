-- Map: ports, airports and hubs with their congestion status (normal | congested | closed | unknown).
-- Grain: one row per node with a coordinate (lat/lon in degrees). Current state: the shared
-- filters do not narrow infrastructure (a congested port matters to every market).
-- Params: none (no window or filter applies to infrastructure).
with final as (
    select n.node_id, n.name, n.kind, n.country, n.lat, n.lon,
           coalesce(n.status, 'unknown') as status, n.updated_at
    from nodes as n
    where n.lat is not null and n.lon is not null
)

select * from final
order by node_id
