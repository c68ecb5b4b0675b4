-- 023_shipment_latest: one row per shipment with what "in transit as of t" reads of it and its newest
-- checkpoint (tracking_latest's), kept in the writer's transaction (queries/state_tables/
-- shipment_latest.sql after a write of shipments, tracking_events.sql after one of checkpoints), so
-- shipment_state_at (queries/kpi/_facts.sql) reads one table instead of joining ~81k shipments in
-- flight with ~980k newest checkpoints by their text ids at every read: at the reference scale
-- (issue 15) that join was ~45 ms of each of the war room's shipment figures (shipments past ETA, in
-- exception, the in-transit mix, the late-inbound alert), twice per overview render.
-- A shipment whose newest checkpoint is at or after the moment asked about still takes its tag of
-- then from tracking_superseded (migration 021), as before.
-- Raw rows stay the truth: the table equals a recomputation from shipments and tracking_events at all
-- times (tests/test_state_tables.py) and `connectors.derived.rebuild` recomputes it.
create table if not exists shipment_latest (
    shipment_id         text,         -- the shipment (shipments.shipment_id)
    direction           text,         -- inbound | outbound (shipments.direction)
    mode                text,         -- sea | air | express | truck (shipments.mode)
    carrier             text,         -- courier slug (shipments.carrier)
    order_id            text,         -- outbound: the customer order (shipments.order_id)
    warehouse_id        text,         -- inbound destination or outbound origin (shipments.warehouse_id)
    destination_country text,         -- country the shipment goes to (shipments.destination_country)
    tag                 text,         -- AfterShip's tag of the shipment (shipments.tag)
    eta                 timestamptz,  -- latest estimate of arrival (shipments.eta)
    shipped_at          timestamptz,  -- picked up by the carrier (shipments.shipped_at)
    delivered_at        timestamptz,  -- delivered; NULL while under way (shipments.delivered_at)
    last_checkpoint_at  timestamptz,  -- AfterShip's last checkpoint time (shipments.last_checkpoint_at)
    created_at          timestamptz,  -- tracking created (shipments.created_at)
    updated_at          timestamptz,  -- row last changed at the source (shipments.updated_at)
    checkpoint_time     timestamptz,  -- time of its newest stored checkpoint (tracking_latest); NULL: none
    checkpoint_tag      text          -- AfterShip tag at that checkpoint (tracking_latest.tag)
);
-- (no key: written by delete + insert per shipment touched, or updated in place, as on DuckLake)
-- Stored with the shipments in flight last: a shipments write appends the rows it touches, so a shipment
-- delivered long ago stays in an old row group and the ones still moving gather in the newest; the
-- backfill and the rebuild sort by delivered_at (NULLs last) to start from that layout. A read of
-- "in flight at t" (delivered_at NULL or >= t) then skips every row group delivered before t by its
-- min/max (reference scale: shipments past ETA now 13 -> 8 ms, 24 h ago 33 -> 23 ms).

-- shipment_latest_source: what shipment_latest holds, computed from shipments and tracking_latest —
-- the one definition the backfill, the rebuild and the writes' refresh insert from.
-- shipment_latest_source.checkpoint_tag: AfterShip tag at the newest checkpoint (tracking_latest.tag)
create or replace view shipment_latest_source as
select s.shipment_id, s.direction, s.mode, s.carrier, s.order_id, s.warehouse_id, s.destination_country,
    s.tag, s.eta, s.shipped_at, s.delivered_at, s.last_checkpoint_at, s.created_at, s.updated_at,
    l.checkpoint_time, l.tag as checkpoint_tag
from shipments s
left join tracking_latest l using (shipment_id);

insert into shipment_latest select * from shipment_latest_source order by delivered_at nulls last;
