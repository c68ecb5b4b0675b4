-- After a batch of tracking_events (append-only history) is applied: for each shipment the batch
-- touched, keep the newest of the stored state and the batch's checkpoints as stored (newest
-- checkpoint_time, then newest created_at, then tag and message), and its earlier checkpoints with
-- the time of the next one (tracking_superseded, migration 021). `_state_batch` is the batch.
-- (delete + insert rather than INSERT OR REPLACE: DuckLake tables have no keys to replace on)
create or replace temp table _state_stored as
select e.shipment_id, e.checkpoint_time, e.created_at, e.tag, e.message, e.lat, e.lon, e.location
from tracking_events e
semi join (
    select cast(shipment_id as text) as shipment_id,
        cast(checkpoint_time as timestamptz) as checkpoint_time,
        cast(tag as text) as tag, cast(message as text) as message
    from _state_batch
) b using (shipment_id, checkpoint_time, tag, message);

create or replace temp table _state_touched as
select distinct cast(shipment_id as text) as shipment_id from _state_batch;

create or replace temp table _state_new as
select shipment_id, checkpoint_time, created_at, tag, message
from (
    select shipment_id, checkpoint_time, created_at, tag, message from _state_stored
    union all
    select l.shipment_id, l.checkpoint_time, l.created_at, l.tag, l.message
    from tracking_latest l semi join _state_touched t using (shipment_id)
)
qualify row_number() over (
    partition by shipment_id order by checkpoint_time desc, created_at desc, tag, message
) = 1;

-- tracking_superseded. A batch's checkpoints at or after `since` (a shipment's earliest one in the
-- batch) leave every earlier part of its timeline as it was: a row superseded before `since` keeps
-- its winner and its next time. So only the rows superseded at or after `since` are recomputed,
-- from those rows, the shipment's newest checkpoint before the batch and the batch's rows, and the
-- table's superseded_at order lets the read skip the older row groups (a live sync touches the last
-- hours only; a late checkpoint reads further back). Read before tracking_latest changes.
create or replace temp table _state_since as
select shipment_id, min(checkpoint_time) as since from _state_stored group by shipment_id having since is not null;

set variable tracking_superseded_since = (select min(since) from _state_since);

create or replace temp table _state_replaced as
select s.shipment_id, s.checkpoint_time, s.created_at, s.tag, s.message
from tracking_superseded s
join _state_since t on t.shipment_id = s.shipment_id and s.superseded_at >= t.since
where s.superseded_at >= getvariable('tracking_superseded_since');

create or replace temp table _state_timeline as
select *, lead(checkpoint_time) over (partition by shipment_id order by checkpoint_time) as superseded_at
from (
    select shipment_id, checkpoint_time, created_at, tag, message
    from (
        select shipment_id, checkpoint_time, created_at, tag, message from _state_stored
        union all
        select l.shipment_id, l.checkpoint_time, l.created_at, l.tag, l.message
        from tracking_latest l semi join _state_since t using (shipment_id)
        union all
        select * from _state_replaced
    )
    where checkpoint_time is not null
    qualify row_number() over (
        partition by shipment_id, checkpoint_time order by created_at desc, tag, message
    ) = 1
);

delete from tracking_latest where shipment_id in (select shipment_id from _state_new);

insert into tracking_latest by name select * from _state_new;

delete from tracking_superseded
where superseded_at >= getvariable('tracking_superseded_since')
  and (shipment_id, checkpoint_time) in (select shipment_id, checkpoint_time from _state_replaced);

insert into tracking_superseded by name
select shipment_id, checkpoint_time, created_at, tag, message, superseded_at
from _state_timeline
where superseded_at is not null
order by superseded_at;  -- (stored in that order: see migration 021)

-- shipment_latest (migration 023) carries each shipment's newest checkpoint: the touched ones take
-- theirs (a shipment not stored yet has no row: its shipments write reads tracking_latest)
update shipment_latest set checkpoint_time = n.checkpoint_time, checkpoint_tag = n.tag
from _state_new n
where shipment_latest.shipment_id = n.shipment_id;

-- tracking_fixes (migration 024): the first and newest fix of each shipment the batch brought a
-- positioned checkpoint for, from its stored first / newest fix and those checkpoints as stored
create or replace temp table _state_fix_rows as
select shipment_id, {'t': checkpoint_time, 'tag': tag, 'm': message} as k, lat, lon, location
from _state_stored
where lat is not null and lon is not null;

create or replace temp table _state_fixes as
with stored as (
    select f.*
    from tracking_fixes f
    semi join _state_fix_rows b using (shipment_id)
),

firsts as (
    select shipment_id, arg_min({'k': k, 'lat': lat, 'lon': lon}, k) as fix
    from (
        select shipment_id, k, lat, lon from _state_fix_rows
        union all
        select shipment_id, {'t': first_time, 'tag': first_tag, 'm': first_message}, first_lat, first_lon from stored
    )
    group by shipment_id
),

lasts as (
    select shipment_id, arg_max({'k': k, 'lat': lat, 'lon': lon, 'location': location}, k) as fix
    from (
        select shipment_id, k, lat, lon, location from _state_fix_rows
        union all
        select shipment_id, {'t': last_time, 'tag': last_tag, 'm': last_message}, last_lat, last_lon, last_location
        from stored
    )
    group by shipment_id
)

select f.shipment_id,
    f.fix.k.t as first_time, f.fix.k.tag as first_tag, f.fix.k.m as first_message,
    f.fix.lat as first_lat, f.fix.lon as first_lon,
    l.fix.k.t as last_time, l.fix.k.tag as last_tag, l.fix.k.m as last_message,
    l.fix.lat as last_lat, l.fix.lon as last_lon, l.fix.location as last_location
from firsts f
join lasts l using (shipment_id);

delete from tracking_fixes where shipment_id in (select shipment_id from _state_fixes);

insert into tracking_fixes by name select * from _state_fixes;

reset variable tracking_superseded_since;
drop table _state_fixes;
drop table _state_fix_rows;
drop table _state_new;
drop table _state_timeline;
drop table _state_replaced;
drop table _state_since;
drop table _state_touched;
drop table _state_stored;
