-- name: nps
-- label: Net Promoter Score
-- label_zh: 净推荐值
-- definition: Percent of promoters (score 9–10) minus percent of detractors (0–6) among survey
--   responses received in the window; always read it with n.
-- definition_zh: 窗口内收到的问卷中，推荐者（9–10 分）百分比减去贬损者（0–6 分）百分比；请结合样本数 n 解读。
-- unit: score
-- grain: one row for the window; responses created in [start, min(end, now))
-- better: higher
-- format: {:+.0f}
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by answer time)
create or replace macro kpi_nps(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- counts from the hourly rollups + the window's edges (survey_counts in _facts.sql; same as survey_facts)
select dimension_value, bucket_start,
    100.0 * (promoters - detractors) / answers as value, answers as n,
    promoters, detractors
from survey_counts(window_start, as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension, bucket, 'nps', kpi_raw_only())
where answers > 0;
