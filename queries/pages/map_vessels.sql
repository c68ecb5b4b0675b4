-- Map: containers at sea as of $now (DCSA events): sailed (an ACT departure known by $now) and not yet
-- arrived (no ACT arrival known by then), with their arrival estimate as known at $now and its slip.
-- Grain: one row per container (equipment_reference).
-- Position: `share` is the part of the voyage elapsed by $now (departure → latest ETA), held at 95 %
--   while the ETA is overdue; from_lat/from_lon is the latest located actual event (the departure
--   port), to_lat/to_lon the port of discharge. lat/lon (degrees) is that share along the straight
--   line (in map projection, the short way round); the map moves it onto the sea lane
--   (connectors/sea_routes.py) where one exists.
-- Columns: equipment_reference, vessel_name, pol (port of loading), pod (port of discharge),
--   departed_at, eta, first_eta, slip_hours, announcements, from_lat, from_lon, to_lat, to_lon,
--   share, lat, lon.
-- Params: now.
with departed as (
    select
        equipment_reference,
        arg_max(un_location_code, event_at) as pol,
        max(event_at) as departed_at,
        arg_max(lat, event_at) as from_lat,
        arg_max(lon, event_at) as from_lon
    from ocean_events
    where event_type = 'TRANSPORT' and event_code = 'DEPA' and event_classifier = 'ACT'
      and event_created_at <= $now::timestamptz and lat is not null and lon is not null
    group by equipment_reference
),

pods as (
    select un_location_code, any_value(lat) as to_lat, any_value(lon) as to_lon
    from ocean_events
    where lat is not null and lon is not null
    group by un_location_code
),

at_sea as (
    select
        k.equipment_reference,
        k.vessel_name,
        d.pol,
        k.un_location_code as pod,
        d.departed_at,
        k.eta,
        k.first_eta,
        k.slip_hours,
        k.announcements,
        d.from_lat,
        d.from_lon,
        p.to_lat,
        p.to_lon,
        least(0.95, greatest(0.0, epoch($now::timestamptz - d.departed_at)
            / nullif(epoch(k.eta - d.departed_at), 0))) as share
    from eta_known_at($now::timestamptz) as k
    inner join departed as d using (equipment_reference)
    inner join pods as p on p.un_location_code = k.un_location_code
    where not k.arrived
)

select
    equipment_reference,
    vessel_name,
    pol,
    pod,
    departed_at,
    eta,
    first_eta,
    slip_hours,
    announcements,
    from_lat,
    from_lon,
    to_lat,
    to_lon,
    share,
    from_lat + (to_lat - from_lat) * coalesce(share, 0.5) as lat,
    -- the short way round: the longitude difference folded into [-180, 180)
    ((from_lon + (((to_lon - from_lon + 540) % 360) - 180) * coalesce(share, 0.5) + 540) % 360) - 180 as lon
from at_sea
order by slip_hours desc, equipment_reference
