-- After a batch of tracking_events (append-only history) is applied: for each shipment the batch
-- touched, keep the newest of the stored state and the batch's checkpoints as stored (newest
-- checkpoint_time, then newest created_at, then tag and message). `_state_batch` is the batch.
-- (delete + insert rather than INSERT OR REPLACE: DuckLake tables have no keys to replace on)
create or replace temp table _state_new as
select shipment_id, checkpoint_time, created_at, tag, message
from (
    select e.shipment_id, e.checkpoint_time, e.created_at, e.tag, e.message
    from tracking_events e
    semi join (
        select cast(shipment_id as text) as shipment_id,
            cast(checkpoint_time as timestamptz) as checkpoint_time,
            cast(tag as text) as tag, cast(message as text) as message
        from _state_batch
    ) b using (shipment_id, checkpoint_time, tag, message)
    union all
    select l.shipment_id, l.checkpoint_time, l.created_at, l.tag, l.message
    from tracking_latest l
    semi join (select cast(shipment_id as text) as shipment_id from _state_batch) b using (shipment_id)
)
qualify row_number() over (
    partition by shipment_id order by checkpoint_time desc, created_at desc, tag, message
) = 1;

delete from tracking_latest where shipment_id in (select shipment_id from _state_new);

insert into tracking_latest by name select * from _state_new;

drop table _state_new;
