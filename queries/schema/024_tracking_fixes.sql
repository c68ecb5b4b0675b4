-- 024_tracking_fixes: each shipment's first and newest checkpoint with a position, kept in the
-- writer's transaction with its other state (queries/state_tables/tracking_events.sql), so the map
-- places the shipments in flight without reading their checkpoint history: a live store appends
-- checkpoints in time order, a shipment's lie spread over the days it travelled, and nothing orders
-- or indexes tracking_events by shipment (map render at the reference scale: 377 ms on a file whose
-- copies sat side by side, 519 ms on one in time order, bench/README.md "Scale").
-- "First" and "newest" follow the checkpoint key (checkpoint_time, tag, message): unique per shipment,
-- so the row kept never depends on the order rows arrived in. A key's first stored row is kept
-- (tracking_events is append-only), and so is its position.
-- Raw rows stay the truth: the table equals a recomputation from tracking_events at all times
-- (tests/test_state_tables.py); readers as of a past moment take the history for the shipments
-- whose newest fix is later (tracking_fixes_at, queries/kpi/_facts.sql).
create table if not exists tracking_fixes (
    shipment_id    text,          -- the shipment (tracking_events.shipment_id)
    first_time     timestamptz,   -- checkpoint_time of its first checkpoint with a position (UTC)
    first_tag      text,          -- that checkpoint's tag (key)
    first_message  text,          -- that checkpoint's message (key)
    first_lat      double,        -- its latitude (degrees)
    first_lon      double,        -- its longitude (degrees)
    last_time      timestamptz,   -- checkpoint_time of its newest checkpoint with a position (UTC)
    last_tag       text,          -- that checkpoint's tag (key)
    last_message   text,          -- that checkpoint's message (key)
    last_lat       double,        -- its latitude (degrees)
    last_lon       double,        -- its longitude (degrees)
    last_location  text           -- its location text as the carrier sent it
);
-- (no key: written by delete + insert per shipment touched, as on DuckLake)

-- tracking_fixes_source: what tracking_fixes holds, computed from tracking_events (the backfill and
-- the rebuild insert from it).
-- tracking_fixes_source.first_time: checkpoint_time of the first checkpoint with a position (UTC)
-- tracking_fixes_source.first_tag: that checkpoint's tag
-- tracking_fixes_source.first_message: that checkpoint's message
-- tracking_fixes_source.first_lat: its latitude (degrees)
-- tracking_fixes_source.first_lon: its longitude (degrees)
-- tracking_fixes_source.last_time: checkpoint_time of the newest checkpoint with a position (UTC)
-- tracking_fixes_source.last_tag: that checkpoint's tag
-- tracking_fixes_source.last_message: that checkpoint's message
-- tracking_fixes_source.last_lat: its latitude (degrees)
-- tracking_fixes_source.last_lon: its longitude (degrees)
-- tracking_fixes_source.last_location: its location text as the carrier sent it
create or replace view tracking_fixes_source as
select shipment_id,
    f.first.t as first_time, f.first.tag as first_tag, f.first.m as first_message,
    f.first.lat as first_lat, f.first.lon as first_lon,
    f.last.t as last_time, f.last.tag as last_tag, f.last.m as last_message,
    f.last.lat as last_lat, f.last.lon as last_lon, f.last.location as last_location
from (
    select shipment_id,
        arg_min({'t': checkpoint_time, 'tag': tag, 'm': message, 'lat': lat, 'lon': lon},
                {'t': checkpoint_time, 'tag': tag, 'm': message}) as first,
        arg_max({'t': checkpoint_time, 'tag': tag, 'm': message, 'lat': lat, 'lon': lon, 'location': location},
                {'t': checkpoint_time, 'tag': tag, 'm': message}) as last
    from tracking_events
    where lat is not null and lon is not null
    group by shipment_id
) as f;

insert into tracking_fixes select * from tracking_fixes_source;
