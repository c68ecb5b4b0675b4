-- 021_tracking_superseded: every checkpoint of a shipment except its newest, with the time of the
-- checkpoint that followed it, kept in the writer's transaction next to tracking_latest
-- (queries/state_tables/tracking_events.sql), so "as of" a past moment reads one row per shipment
-- instead of replaying every parcel's history (issue 15: the overview's previous-window
-- shipments_past_eta and exceptions, 4.9M checkpoints scanned and ranked, ~150 ms each at the
-- reference scale).
--
-- One row per shipment × distinct checkpoint_time below its newest: the checkpoint that wins at that
-- time by the history's own order (newest created_at, then tag, then message), and superseded_at,
-- the shipment's next distinct checkpoint_time. The newest checkpoint before a moment t of a
-- shipment whose newest of all is at or after t is then its one row with
-- checkpoint_time < t <= superseded_at (checkpoint_latest_before in queries/kpi/_facts.sql).
-- Rows are stored in superseded_at order (the backfill and rebuild sort them; the writes append the
-- rows a new checkpoint supersedes, which are recent), so the row groups' min/max of superseded_at
-- let a read of "24 h ago" skip every group superseded before then: 5 ms instead of a 3.9M-row scan.
-- Raw history stays the truth: the table equals a recomputation from tracking_events at all times
-- (tests/test_state_tables.py) and `connectors.derived.rebuild` recomputes it.
create table if not exists tracking_superseded (
    shipment_id     text,          -- the shipment (tracking_events.shipment_id)
    checkpoint_time timestamptz,   -- time of this checkpoint (UTC); never the shipment's newest
    created_at      timestamptz,   -- when AfterShip recorded that checkpoint (tie-break: newest first)
    tag             text,          -- AfterShip tag at that checkpoint (InTransit, Exception …)
    message         text,          -- carrier's message at that checkpoint (last tie-break)
    superseded_at   timestamptz    -- checkpoint_time of the shipment's next checkpoint (UTC)
);
-- (no key: ~4 rows per shipment, written by delete + insert per shipment touched, as on DuckLake)

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
