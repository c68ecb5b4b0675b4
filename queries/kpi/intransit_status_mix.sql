-- name: intransit_status_mix
-- label: In-transit status mix
-- label_zh: 在途状态分布
-- definition: Shipments not yet delivered, grouped by their tracking tag as of the moment (the tag of
--   the newest checkpoint before it), split inbound / outbound.
-- grain: one row per AfterShip tag; shipments in transit at min(end, now)
-- params: start (unused: a state), end, now, merchant, channel (outbound shipments of matching
--   orders only), market (order market, else the warehouse's, else destination) (NULL = all)
-- returns: tag, shipments, inbound, outbound, past_eta (not delivered with the ETA behind us),
--   share_pct (of all shipments in transit)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text as merchant,
        $channel::text  as channel,
        $market::text   as market
),

-- shipments in flight as of as_of, tag replayed from tracking (queries/schema/004_shared_macros.sql);
-- this breakdown has no warehouse or carrier filter
in_transit as (
    select s.direction, s.eta < s.as_of as past_eta, s.tag_as_of as tag
    -- the bound values go straight in, so DuckDB folds them to constants
    from shipment_state_at(
        least($end::timestamptz, $now::timestamptz),
        $merchant::text, $channel::text, $market::text, null::text, null::text
    ) s
),

final as (
    select
        tag,
        count(*) as shipments,
        count(*) filter (where direction = 'inbound') as inbound,
        count(*) filter (where direction = 'outbound') as outbound,
        count(*) filter (where past_eta) as past_eta,
        100.0 * count(*) / sum(count(*)) over () as share_pct
    from in_transit
    where tag not in ('Delivered', 'Expired')
    group by tag
)

select * from final order by shipments desc, tag
