-- Forget the survey rollup rows of the NPS hours $nps and CSAT hours $csat (all rows when $all).
delete from rollup_survey_hours
where $all::boolean
   or (survey = 'nps' and hour in (select unnest($nps::timestamptz[])))
   or (survey = 'csat' and hour in (select unnest($csat::timestamptz[])));
