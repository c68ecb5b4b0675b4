-- name: fill_rate
-- label: Fill rate
-- label_zh: 订单满足率
-- definition: Units on orders placed in the window that shipped from stock ÷ units ordered. Orders
--   still open and younger than 48 hours (normal handling time) are left out: they can still ship;
--   cancelled or long-open orders count as not filled.
-- definition_zh: 窗口内下单并从库存发出的件数 ÷ 下单件数。仍未处理且不足 48 小时（正常处理时间）的订单不计入；已取消或长期未发的订单计为未满足。
-- unit: pct
-- grain: one row for the window; order lines of orders created in [start, min(end, now))
-- better: higher
-- format: {:.1f}%
-- params: start, end, now, merchant, channel, market, warehouse (NULL = all)
-- returns: value (percent 0–100, NULL without orders), n (units ordered and judged)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $warehouse::text as warehouse
),

lines as (
    select
        l.quantity,
        o.fulfilled_at is not null and o.fulfilled_at < p.as_of as shipped,
        o.cancelled_at is not null and o.cancelled_at < p.as_of as cancelled,
        o.created_at >= p.as_of - interval 48 hour as within_handling_time
    from order_lines l
    join orders o using (order_id)
    cross join params p
    where o.created_at >= p.window_start
      and o.created_at < p.as_of
      and (p.merchant is null or o.merchant_id = p.merchant)
      and (p.channel is null or o.channel = p.channel)
      and (p.market is null or o.market = p.market)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
),

judged as (
    select * from lines
    where shipped or cancelled or not within_handling_time
),

final as (
    select
        100.0 * coalesce(sum(quantity) filter (where shipped), 0) / nullif(sum(quantity), 0) as value,
        coalesce(sum(quantity), 0)::bigint as n
    from judged
)

select * from final
