-- The rollup hours the orders `orders` and the answers $nps_ids / $csat_ids count in now, as
-- (kind, hour): kind delivered | shipped (rollup_order_hours), line (rollup_line_hours, the order's
-- hour), nps | csat (rollup_survey_hours: the answers given, and every answer about those orders).
-- Reads rollup_orders and rollup_answers, never the raw rows: before a batch it gives the hours the
-- orders and answers counted in until then, even when the raw rows changed already (the DuckLake
-- maintainer runs after the workers' commits).
with mine as (
    select * from rollup_orders where order_id in ({orders})
)

select 'delivered' as kind, date_trunc('hour', delivered_at) as hour from mine where delivered_at is not null
union
select 'shipped', date_trunc('hour', shipped_at) from mine where shipped_at is not null
union
select 'line', date_trunc('hour', created_at) from mine where created_at is not null
union
select survey, date_trunc('hour', created_at) from rollup_answers
where created_at is not null
  and ((survey = 'nps' and response_id in (select unnest($nps_ids::text[])))
    or (survey = 'csat' and response_id in (select unnest($csat_ids::text[]))))
union
select survey, date_trunc('hour', created_at) from rollup_answers
where created_at is not null and order_id in ({orders})
