-- name: stale_trackings
-- label: Stale trackings
-- label_zh: 长时间无更新的追踪
-- definition: Shipments not delivered with no new tracking checkpoint for 24 hours (counted
--   from creation when there is none yet).
-- definition_zh: 尚未送达且 24 小时内没有新轨迹的货件数（尚无轨迹时从创建时间算起）。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: none (a state as of the moment)
create or replace macro kpi_stale_trackings(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select dimension_value, null::timestamptz as bucket_start,
    count(*) filter (where last_activity_at < as_of - interval 24 hour) as value, count(*) as n
from shipment_state_at(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension)
where in_transit
group by all;
