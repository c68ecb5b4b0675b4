-- pack_nps_responses: the event's NPS answers:
-- answered in [$start, $end), or about an order placed in the window (customers answer days
-- after delivery, so the event's own verdict arrives after it ends).
-- Filtered by merchant / market (the answer's) and channel (its order's); NULL = all.
-- grain: one row per answer. returns: the columns of `nps_responses`
-- (survey_answers_about_window: queries/schema/009_shared_query_macros.sql)
select *
from survey_answers_about_window('nps_responses', $start::timestamptz, $end::timestamptz,
                                 $merchant::text, $channel::text, $market::text)
order by created_at, response_id
