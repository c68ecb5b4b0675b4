-- Forget the per-answer rows of the NPS answers $nps_ids, the CSAT answers $csat_ids and every answer
-- about the orders $orders (all rows when $all).
delete from rollup_answers
where $all::boolean
   or (survey = 'nps' and response_id in (select unnest($nps_ids::text[])))
   or (survey = 'csat' and response_id in (select unnest($csat_ids::text[])))
   or order_id in (select unnest($orders::text[]));
