-- Test check: each shipment's first and newest fix at or before $at from tracking_events alone (the
-- raw definition of tracking_fixes_at), in a fixed order.
select shipment_id,
    arg_min({'lat': lat, 'lon': lon}, {'t': checkpoint_time, 'tag': tag, 'm': message}) as first_fix,
    arg_max({'lat': lat, 'lon': lon, 'location': location}, {'t': checkpoint_time, 'tag': tag, 'm': message}) as last_fix
from tracking_events
where lat is not null and lon is not null and checkpoint_time <= $at::timestamptz
group by shipment_id
order by all;
