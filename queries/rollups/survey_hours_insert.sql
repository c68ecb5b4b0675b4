-- rollup_survey_hours for the NPS hours $nps and CSAT hours $csat (every hour when $all): the
-- answers survey_facts counts (on the survey's scale), with the surveyed order's dimensions from
-- rollup_orders (which must be current; the answer's own merchant and market win).
insert into rollup_survey_hours
with answers as (
    select 'nps' as survey, order_id, merchant_id, market, score, created_at
    from nps_responses
    where score between 0 and 10 and created_at is not null
      and ($all::boolean or date_trunc('hour', created_at) in (select unnest($nps::timestamptz[])))
    union all
    select 'csat', order_id, merchant_id, market, score, created_at
    from csat_responses
    where score between 1 and 5 and created_at is not null
      and ($all::boolean or date_trunc('hour', created_at) in (select unnest($csat::timestamptz[])))
)

select
    a.survey, date_trunc('hour', a.created_at) as hour,
    coalesce(a.merchant_id, o.merchant_id) as merchant_id,
    o.channel,
    coalesce(a.market, o.market) as market,
    o.warehouse_id,
    o.carrier,
    count(*) as answers,
    count(*) filter (where a.score >= 9) as promoters,
    count(*) filter (where a.score <= 6) as detractors,
    count(*) filter (where a.score >= 4) as satisfied
from answers a
left join rollup_orders o on o.order_id = a.order_id
group by all;
