-- pack_alerts: alerts opened in [$start, $end), every stored column (needs the alerts migration).
-- grain: one row per alert. returns: the columns of `alerts`
select a.*
from alerts a
where a.opened_at >= $start::timestamptz
  and a.opened_at < $end::timestamptz
order by a.opened_at, a.alert_id
