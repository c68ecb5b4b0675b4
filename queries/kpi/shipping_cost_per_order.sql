-- name: shipping_cost_per_order
-- label: Shipping cost per order
-- label_zh: 每单运费
-- definition: Average shipping cost paid by the seller per order placed in the window (orders not
--   cancelled, with a known cost), in the reporting currency (USD) at the rate in force on the
--   order's day (config/fx_rates.csv).
-- definition_zh: 窗口内下单（未取消、运费已知）的订单平均每单卖家承担的运费，按下单当日汇率（config/fx_rates.csv）折算为报告币种美元。
-- unit: money
-- grain: one row for the window; orders created in [start, min(end, now))
-- better: lower
-- format: ${:,.2f}
-- caveat: orders in a currency with no rate in config/fx_rates.csv are left out (n counts the
--   orders converted).
-- dimensions: merchant, channel, market, warehouse, carrier
-- buckets: hour, day (by order time)
create or replace macro kpi_shipping_cost_per_order(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
with costed as (
    -- at the rate in force on the order's day (config/fx_rates.csv, to_reporting in 008_csat_fx.sql);
    -- an unknown currency gives NULL, never an amount averaged in as if it were USD
    select dimension_value, created_at, to_reporting(shipping_cost, currency, created_at)::double as usd
    from order_facts(as_of, merchant_filter, channel_filter, market_filter, warehouse_filter, carrier_filter, dimension)
    where created_at >= window_start and not cancelled
)

select dimension_value, kpi_bucket(bucket, created_at) as bucket_start, avg(usd) as value, count(*) as n
from costed
where usd is not null
group by all;
