-- name: otif
-- label: OTIF (on time, in full)
-- label_zh: 准时足量交付率（OTIF）
-- definition: Share of orders delivered in the window that came on or before the promised date and
--   in full: no return opened for a wrong or damaged item. Orders without a promised date are left out.
-- definition_zh: 窗口内送达的订单中，既在承诺日期当天或之前送达、又完整无误（没有因错发或破损发起的退货）的比例；没有承诺时间的订单不计入。
-- unit: pct
-- grain: one row for the window; orders delivered in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- caveat: "In full" is judged from returns for a wrong or damaged item: the stores' order feeds
--   carry no per-line shipped quantities, so a short shipment nobody returned counts as in full.
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by delivery time)
create or replace macro kpi_otif(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (order_counts in _facts.sql; same as order_facts)
select dimension_value, bucket_start, 100.0 * otif / promised as value, promised as n
from order_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'delivered', kpi_raw_only())
where promised > 0;
