-- name: inventory_turnover
-- label: Inventory turnover (annualised)
-- label_zh: 库存周转率（年化）
-- definition: Cost of goods sold in the window ÷ average stock value (mean of the stock value at the
--   window start and at its end, at unit cost; only the end when nothing was observed before the
--   start), scaled to a year.
-- definition_zh: 窗口内销售成本 ÷ 平均库存价值（窗口开始和结束时按单位成本计的库存价值的平均；窗口开始前没有观测时只用结束时的值），折算为年。
-- unit: ratio
-- grain: one row for the window [start, min(end, now)); stock value from the history at both ends
-- better: higher
-- format: {:.1f}×
-- dimensions: none (stock value at both ends of the window)
-- buckets: none
create or replace macro kpi_inventory_turnover(window_start, as_of, merchant_filter := null, channel_filter := null,
    market_filter := null, warehouse_filter := null, carrier_filter := null, dimension := null, bucket := null
) as table
-- needs a real start: a turnover over "all time" means nothing
with moments as (
    select 'start' as moment, window_start as moment_at
    union all
    select 'end', as_of
),

stock_at as (
    select m.moment, o.sku, greatest(o.available, 0) as available
    from moments m
    join stock_observations o on o.observed_at < m.moment_at
    left join warehouses w on w.warehouse_id = o.warehouse_id
    where (market_filter is null or w.market = market_filter)
      and (warehouse_filter is null or o.warehouse_id = warehouse_filter)
    qualify row_number() over (partition by m.moment, o.sku, o.warehouse_id order by o.observed_at desc) = 1
),

stock_value as (
    select
        sum(s.available * k.unit_cost) filter (where s.moment = 'start') as at_start,
        sum(s.available * k.unit_cost) filter (where s.moment = 'end') as at_end
    from stock_at s
    join skus k using (sku)
),

sold as (
    select sum(quantity * unit_cost) as cogs, sum(quantity) as units
    from line_facts(as_of, null, null, null, warehouse_filter, null)
    where created_at >= window_start
      and not cancelled
      and (market_filter is null or warehouse_market = market_filter)
)

select
    null::text as dimension_value,
    null::timestamptz as bucket_start,
    -- a moment with no observation yet is unknown, not empty: average what is known
    s.cogs::double / nullif(coalesce((v.at_start + v.at_end) / 2, v.at_start, v.at_end), 0)
        * 365 * 86400e6 / nullif(date_diff('microsecond', window_start, as_of), 0) as value,
    coalesce(s.units, 0)::bigint as n
from sold s, stock_value v
where isfinite(window_start);
