-- Macros the retro and alert queries share: "the orders of a window" and "rows about those orders",
-- written once instead of in every data-pack query, and the per-class / per-mode threshold lookup of
-- the alert rules. (The KPI layer's facts are in queries/kpi/_facts.sql.) Arguments are values the
-- caller casts ($start::timestamptz, $merchant::text); a NULL filter = all. Like 005's macros they
-- are created once by this migration: a change to one is a new migration with `create or replace`.

-- threshold_for(thresholds, key): the number for `key` (a sku class, a transport mode) in JSON text
--   of an object with a "default", as alert configs write per-class thresholds:
--   { core = 48, default = 24 }; the default when the key is absent or NULL.
create or replace macro threshold_for(thresholds, key) as coalesce(
    json_extract(thresholds, '$.' || key)::double,
    json_extract(thresholds, '$.default')::double
);

-- orders_in_window(window_start, window_end, merchant_filter, channel_filter, market_filter): every
--   stored column of the orders created in [window_start, window_end) of that merchant, channel and
--   market. Unordered.
create or replace macro orders_in_window(
    window_start, window_end, merchant_filter, channel_filter, market_filter
) as table
select o.*
from orders o
where o.created_at >= window_start
  and o.created_at < window_end
  and (merchant_filter is null or o.merchant_id = merchant_filter)
  and (channel_filter is null or o.channel = channel_filter)
  and (market_filter is null or o.market = market_filter);

-- rows_about_window_orders(table_name, window_start, window_end): the rows of a table with
--   created_at and order_id (returns, nps_responses, csat_responses) created in
--   [window_start, window_end) or about an order placed in it — customers answer and return days
--   after delivery, so an event's own verdict arrives after it ends. Columns: the table's, then its
--   order's merchant_id, channel and market as order_merchant_id, order_channel, order_market (NULL
--   without a stored order). Unordered.
create or replace macro rows_about_window_orders(table_name, window_start, window_end) as table
select r.*, o.merchant_id as order_merchant_id, o.channel as order_channel, o.market as order_market
from query_table(table_name) r
left join orders o using (order_id)
where (r.created_at >= window_start and r.created_at < window_end)
   or r.order_id in (select order_id from orders_in_window(window_start, window_end, null, null, null));

-- survey_answers_about_window(table_name, window_start, window_end, merchant_filter, channel_filter,
--   market_filter): the answers of a survey table (nps_responses, csat_responses) as
--   rows_about_window_orders finds them, filtered by the answer's own merchant and market and by its
--   order's channel (an answer carries no channel). Columns: the table's. Unordered.
create or replace macro survey_answers_about_window(
    table_name, window_start, window_end, merchant_filter, channel_filter, market_filter
) as table
select * exclude (order_merchant_id, order_channel, order_market)
from rows_about_window_orders(table_name, window_start, window_end)
where (merchant_filter is null or merchant_id = merchant_filter)
  and (channel_filter is null or order_channel = channel_filter)
  and (market_filter is null or market = market_filter);
