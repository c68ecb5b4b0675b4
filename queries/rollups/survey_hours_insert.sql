-- rollup_survey_hours for the NPS hours $nps and CSAT hours $csat (every hour when $all), from
-- rollup_answers (which must be current).
insert into rollup_survey_hours
select
    survey, date_trunc('hour', created_at) as hour,
    merchant_id, channel, market, warehouse_id, carrier,
    count(*) as answers,
    count(*) filter (where score >= 9) as promoters,
    count(*) filter (where score <= 6) as detractors,
    count(*) filter (where score >= 4) as satisfied
from rollup_answers
where $all::boolean
   or (survey = 'nps' and date_trunc('hour', created_at) in (select unnest($nps::timestamptz[])))
   or (survey = 'csat' and date_trunc('hour', created_at) in (select unnest($csat::timestamptz[])))
group by all
-- stored in time order (a rebuild writes every hour at once), so a window's read skips row
-- groups by their min/max hour
order by hour;
