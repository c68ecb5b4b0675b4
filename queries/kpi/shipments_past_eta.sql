-- name: shipments_past_eta
-- label: Shipments past ETA
-- label_zh: 超过预计到达时间的货件
-- definition: Shipments (inbound and outbound) still not delivered whose latest ETA is already
--   behind us: the transit-delay count.
-- definition_zh: 尚未送达且最新预计到达时间已过的货件数（入库和出库），即运输延误数。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- caveat: eta is the latest estimate known (the shipments table keeps only the newest)
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: none (a state as of the moment)
create or replace macro kpi_shipments_past_eta(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select dimension_value, null::timestamptz as bucket_start,
    count(*) filter (where eta < as_of) as value, count(*) as n
from shipment_state_at(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension)
where in_transit
group by all;
