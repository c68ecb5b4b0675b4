-- Overview: shipments in transit at min(end, now) by tracking tag (AfterShip's nine), inbound and
--   outbound, and how many are past their ETA; the state comes from shipment_state_at (queries/kpi/_facts.sql).
-- Params: end, now, merchant, channel, market (NULL = all).
-- Returns: tag, shipments, inbound, outbound, past_eta, share_pct; most common first.
select
    tag_as_of as tag,
    count(*) as shipments,
    count(*) filter (where direction = 'inbound') as inbound,
    count(*) filter (where direction = 'outbound') as outbound,
    count(*) filter (where eta < as_of) as past_eta,
    100.0 * count(*) / sum(count(*)) over () as share_pct
from shipment_state_at(
    least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz),
    $merchant::text, $channel::text, $market::text, null, null, null
)
where in_transit
group by tag_as_of
order by shipments desc, tag
