-- NPS by market
-- Net promoter score (% promoters 9–10 minus % detractors 0–6) of responses created in the
-- window, per market, with the number of responses. Grain: one row per market. Units: points
-- (-100…100), responses. Uses $start, $end, $merchant, $market (null = all).
with responses as (
    select market, score
    from nps_responses
    where created_at >= $start and created_at < $end
      and score between 0 and 10
      and ($merchant is null or merchant_id = $merchant)
      and ($market is null or market = $market)
),

final as (
    select
        coalesce(market, 'unknown') as market,
        count(*) as responses,
        round(100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6))
              / count(*), 1) as nps
    from responses
    group by all
)

select * from final
order by responses desc
