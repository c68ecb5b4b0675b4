-- pack_nps_responses: the event's NPS answers:
-- answered in [$start, $end), or about an order placed in the window (customers answer days
-- after delivery, so the event's own verdict arrives after it ends).
-- Filtered by merchant / market (the answer's) and channel (its order's); NULL = all.
-- grain: one row per answer. returns: the columns of `nps_responses`
with window_orders as (
    select o.order_id
    from orders o
    where o.created_at >= $start::timestamptz
      and o.created_at < $end::timestamptz
)

select r.*
from nps_responses r
left join orders o using (order_id)
where ((r.created_at >= $start::timestamptz and r.created_at < $end::timestamptz)
       or r.order_id in (select order_id from window_orders))
  and ($merchant::text is null or r.merchant_id = $merchant::text)
  and ($channel::text is null or o.channel = $channel::text)
  and ($market::text is null or r.market = $market::text)
order by r.created_at, r.response_id
