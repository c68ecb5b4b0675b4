-- Twin delivery slack: per market, how many hours before its promise each delivered order arrived
-- (promised_delivery_at − delivered_at), deliveries known by $at over the $days days before it; a
-- carrier delay of D hours makes late every order whose slack was under D.
-- Grain: one row per market. Columns: market, slack_samples (list of hours). Params: $at, $days.
select market, list(epoch(promised_delivery_at - delivered_at) / 3600 order by order_id) as slack_samples
from orders_with_delivery
where delivered_at <= $at
  and delivered_at > $at::timestamptz - to_days($days::bigint)
  and promised_delivery_at is not null and market is not null
group by all
order by market
