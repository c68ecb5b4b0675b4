-- name: csat
-- label: Customer satisfaction (CSAT)
-- label_zh: 客户满意度（CSAT）
-- definition: Percent of post-delivery satisfaction answers (1–5) that are 4 or 5, among answers
--   received in the window; always read it with n.
-- definition_zh: 窗口内收到的送达后满意度问卷（1–5 分）中，4 分或 5 分所占的百分比；请结合样本数 n 解读。
-- unit: pct
-- grain: one row for the window; answers received in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by answer time)
create or replace macro kpi_csat(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (survey_counts in _facts.sql; same as survey_facts)
select dimension_value, bucket_start, 100.0 * satisfied / answers as value, answers as n
from survey_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'csat', kpi_raw_only())
where answers > 0;
