-- name: exceptions
-- label: Shipments in exception
-- label_zh: 异常货件
-- definition: Shipments not delivered whose latest checkpoint before the moment is tagged
--   Exception (customs, damage, address, lost, returning …).
-- definition_zh: 尚未送达、且该时刻之前最新一条轨迹标记为异常（清关、破损、地址、丢失、退回等）的货件数。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: none (a state as of the moment)
create or replace macro kpi_exceptions(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select dimension_value, null::timestamptz as bucket_start,
    count(*) filter (where tag_as_of = 'Exception') as value, count(*) as n
from shipment_state_at(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension)
where in_transit
group by all;
