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
-- params: start (required), end, now, market (the warehouse's), warehouse; merchant and channel do
--   not apply (stock is shared)
-- returns: value (turns per year, NULL without a start, sales or stock), n (units sold)
with params as (
    select
        $start::timestamptz                          as window_start,
        least($end::timestamptz, $now::timestamptz)  as as_of,
        $merchant::text  as merchant,  -- unused: stock is shared
        $channel::text   as channel,   -- unused: stock is shared
        $market::text    as market,
        $warehouse::text as warehouse
),

moments as (
    select 'start' as moment, window_start as moment_at from params
    union all
    select 'end', as_of from params
),

-- stock at each moment: the latest observation before it per pair
stock_at as (
    select m.moment, o.sku, greatest(o.available, 0) as available
    from moments m
    join stock_observations o on o.observed_at < m.moment_at
    cross join params p
    left join warehouses w on w.warehouse_id = o.warehouse_id
    where (p.market is null or w.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
    qualify row_number() over (
        partition by m.moment, o.sku, o.warehouse_id order by o.observed_at desc
    ) = 1
),

stock_value as (
    select
        sum(s.available * k.unit_cost) filter (where s.moment = 'start') as at_start,
        sum(s.available * k.unit_cost) filter (where s.moment = 'end') as at_end
    from stock_at s
    join skus k using (sku)
),

sold as (
    select sum(l.quantity * k.unit_cost) as cogs, sum(l.quantity) as units
    from order_lines l
    join orders o using (order_id)
    join skus k on k.sku = l.sku
    cross join params p
    left join warehouses w on w.warehouse_id = o.warehouse_id
    where o.created_at >= p.window_start
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
      and (p.market is null or w.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
),

final as (
    select
        -- a moment with no observation yet is unknown, not empty: average what is known
        s.cogs::double / nullif(coalesce((v.at_start + v.at_end) / 2, v.at_start, v.at_end), 0)
            * 365 * 86400e6 / nullif(date_diff('microsecond', p.window_start, p.as_of), 0) as value,
        coalesce(s.units, 0)::bigint as n
    from sold s, stock_value v, params p
)

select * from final
