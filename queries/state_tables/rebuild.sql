-- Recompute every current-state table from the raw history (connectors.state_tables.rebuild):
-- the newest row per entity, ties broken by the rest of the key (same order as the refresh files).
delete from stock_latest;
insert into stock_latest
select sku, warehouse_id, observed_at, available
from stock_observations
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1;

delete from po_progress_latest;
insert into po_progress_latest
select po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source
from po_progress
qualify row_number() over (partition by po_id order by observed_at desc) = 1;

delete from tracking_latest;
insert into tracking_latest
select shipment_id, checkpoint_time, created_at, tag, message
from tracking_events
qualify row_number() over (
    partition by shipment_id order by checkpoint_time desc, created_at desc, tag, message
) = 1;

delete from tracking_superseded;
insert into tracking_superseded
select shipment_id, checkpoint_time, created_at, tag, message, superseded_at
from (
    select *, lead(checkpoint_time) over (partition by shipment_id order by checkpoint_time) as superseded_at
    from (
        select shipment_id, checkpoint_time, created_at, tag, message
        from tracking_events
        where checkpoint_time is not null
        qualify row_number() over (
            partition by shipment_id, checkpoint_time order by created_at desc, tag, message
        ) = 1
    )
)
where superseded_at is not null
order by superseded_at;

delete from shipment_latest;
insert into shipment_latest
select * from shipment_latest_source order by delivered_at nulls last;  -- as the writes leave it: see migration 023

delete from tracking_fixes;
insert into tracking_fixes select * from tracking_fixes_source;
