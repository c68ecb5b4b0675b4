-- Tower forecast: a fingerprint of the order history in [$from, $until): when it is the same as the
-- last fit's, nothing the forecast reads has changed and the refresh is skipped.
-- Columns: history_key (text). Params: $from, $until.
select concat_ws('|', count(*), coalesce(sum(l.quantity), 0), max(o.created_at), max(o.updated_at),
                 count(o.cancelled_at), $from::timestamptz, $until::timestamptz) as history_key
from orders as o
inner join order_lines as l using (order_id)
where o.created_at >= $from::timestamptz
  and o.created_at < $until::timestamptz
