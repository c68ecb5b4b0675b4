-- Per-answer rows of rollup_answers for the NPS answers $nps_ids, the CSAT answers $csat_ids and every
-- answer about the orders $orders (all answers when $all): the answers survey_facts counts (on the
-- survey's scale, with an answer time) with the surveyed order's dimensions from rollup_orders
-- (which must be current; the answer's own merchant and market win), in order of answering.
insert into rollup_answers
with answers as (
    select 'nps' as survey, response_id, order_id, merchant_id, market, score, created_at
    from nps_responses
    where score between 0 and 10 and created_at is not null
      and ($all::boolean or response_id in (select unnest($nps_ids::text[]))
           or order_id in (select unnest($orders::text[])))
    union all
    select 'csat', response_id, order_id, merchant_id, market, score, created_at
    from csat_responses
    where score between 1 and 5 and created_at is not null
      and ($all::boolean or response_id in (select unnest($csat_ids::text[]))
           or order_id in (select unnest($orders::text[])))
)

select
    a.survey, a.response_id, a.order_id, a.score, a.created_at,
    coalesce(a.merchant_id, o.merchant_id) as merchant_id,
    o.channel,
    coalesce(a.market, o.market) as market,
    o.warehouse_id,
    o.carrier
from answers a
left join rollup_orders o on o.order_id = a.order_id
order by a.created_at;
