-- pack_shipments: shipments that were on the move during [$start, $end): created before the end and
-- not delivered before the start (inbound and outbound). No merchant/channel/market filter: a data
-- pack keeps the whole flow of goods.
-- grain: one row per shipment. returns: the columns of `shipments`
select s.*
from shipments s
where coalesce(s.created_at, s.shipped_at) < $end::timestamptz
  and (s.delivered_at is null or s.delivered_at >= $start::timestamptz)
order by s.shipment_id
