-- pack_events: promotions and disruptions that overlap [$start, $end) (an open-ended event counts).
-- grain: one row per event. returns: the columns of `events`
select e.*
from events e
where e.starts_at < $end::timestamptz
  and (e.ends_at is null or e.ends_at >= $start::timestamptz)
order by e.starts_at, e.event_id
