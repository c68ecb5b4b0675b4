-- name: supplier_progress_vs_plan
-- label: Supplier progress vs plan
-- label_zh: 供应商进度偏差
-- definition: Average over active purchase orders of produced % minus expected %, where expected %
--   is the share of time elapsed from order to promised ship date; negative = behind, in points.
-- definition_zh: 在执行中的采购单上，已生产百分比减去预期百分比（从下单到承诺发货日按时间线性推进）的平均值；负数表示落后，单位为百分点。
-- unit: points
-- grain: one row: POs active as of min(end, now) (ordered, not cancelled, due in the window or
--   not yet finished), progress from the latest supplier report before that moment
-- better: higher
-- format: {:+.1f} pts
-- dimensions: market, warehouse, supplier, sku
-- buckets: none (a state as of the moment)
create or replace macro kpi_supplier_progress_vs_plan(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
select dimension_value, null::timestamptz as bucket_start,
    avg(produced_pct - expected_pct) as value, count(*) as n
from po_state_at(window_start, as_of, market_filter, warehouse_filter, dimension)
group by all;
