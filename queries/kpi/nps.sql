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
-- params: start, end, now, merchant, channel, market, warehouse, carrier (NULL = all; channel,
--   warehouse and carrier come from the surveyed order)
-- returns: value (−100…100, NULL without responses), n (responses)
with params as (
    select
        coalesce($start::timestamptz, '-infinity'::timestamptz) as window_start,
        least($end::timestamptz, $now::timestamptz)             as as_of,
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $warehouse::text as warehouse,
        $carrier::text   as carrier
),

responses as (
    select r.score
    from nps_responses r
    cross join params p
    left join orders_with_delivery o on o.order_id = r.order_id
    where r.created_at >= p.window_start
      and r.created_at < p.as_of
      and r.score between 0 and 10
      and (p.merchant is null or coalesce(r.merchant_id, o.merchant_id) = p.merchant)
      and (p.market is null or coalesce(r.market, o.market) = p.market)
      and (p.channel is null or o.channel = p.channel)
      and (p.warehouse is null or o.warehouse_id = p.warehouse)
      and (p.carrier is null or o.carrier = p.carrier)
),

final as (
    select
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6))
            / nullif(count(*), 0) as value,
        count(*) as n
    from responses
)

select * from final
